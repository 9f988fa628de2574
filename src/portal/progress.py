"""Live progress for the terminal: one line per provider, drawn with rich."""

from __future__ import annotations

import threading
from types import TracebackType

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from portal.shown import shown


class RichProgress:
    """Implements ``SyncProgress`` with one live rich line per provider."""

    def __init__(self, console: Console, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self._progress = Progress(
            SpinnerColumn(),
            # Provider and stream names and retry messages come from plugins and providers:
            # they are neutralised (``shown``) and never read as markup.
            TextColumn("{task.fields[provider]:<10}", style="bold", markup=False),
            TextColumn("{task.completed:>8.0f} records"),
            TextColumn("{task.fields[rate]:>7} rec/s"),
            TextColumn("{task.fields[pages]:>5} pages"),
            TextColumn("{task.fields[retries]:>3} retries"),
            TextColumn("{task.fields[note]}", markup=False),
            TimeElapsedColumn(),
            console=console,
            transient=False,
            disable=not enabled,
        )
        self._tasks: dict[str, TaskID] = {}
        # Called from every provider's delivery thread and from its fetching threads (streams
        # are fetched side by side): counts are read, added to and written back.
        self._lock = threading.Lock()

    def __enter__(self) -> RichProgress:
        self._progress.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.__exit__(kind, error, tb)

    def _task(self, provider: str) -> TaskID:
        if provider not in self._tasks:
            self._tasks[provider] = self._progress.add_task(
                shown(provider),
                total=None,
                provider=shown(provider),
                pages=0,
                retries=0,
                rate="-",
                note="",
            )
        return self._tasks[provider]

    def page(self, provider: str, stream: str, records: int, rejected: int, pages: int = 1) -> None:
        """Count a delivered batch of ``pages`` pages."""
        with self._lock:
            self._page(provider, stream, records, rejected, pages)

    def _page(self, provider: str, stream: str, records: int, rejected: int, pages: int) -> None:
        task = self._task(provider)
        state = self._progress.tasks[self._tasks_index(task)]
        pages += state.fields["pages"]
        elapsed = state.elapsed or 0.0
        rate = f"{(state.completed + records) / elapsed:.0f}" if elapsed > 0 else "-"
        # Streams may carry an id ("transactions:<account>"); the kind is what a person needs.
        note = shown(stream.split(":", 1)[0]) + (f", {rejected} rejected" if rejected else "")
        self._progress.update(task, advance=records, pages=pages, rate=rate, note=note)

    def retry(self, provider: str, message: str, wait: float) -> None:
        """Show that a request is waiting to be tried again, and count it."""
        with self._lock:
            task = self._task(provider)
            retries = self._progress.tasks[self._tasks_index(task)].fields["retries"] + 1
            self._progress.update(
                task, retries=retries, note=f"waiting {wait:.1f}s: {shown(message)}"
            )

    def _tasks_index(self, task: TaskID) -> int:
        return [t.id for t in self._progress.tasks].index(task)
