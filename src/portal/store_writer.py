"""SQLite writes in a process of their own, so that they never wait for the sync's GIL.

A sync's Python (decoding pages, normalising, validating, turning records into rows) and
SQLite's work share one process; SQLite runs without the GIL, but every one of its calls
ends by taking the GIL back, and while the engine's other threads are busy that takes up
to a switch interval (5 ms) each time. A batch of 1,000 transactions makes a dozen such
calls: the thread that writes was the sync's bottleneck, and it spent half its time
waiting for the GIL. Here the store's rows, already converted to what SQLite stores, go
through a pipe to a child process that only writes: one message per batch, one
transaction per message, then one answer. The store in the parent waits for the answer
(without the GIL), so a batch is still committed, with its cursor, before ``deliver``
returns, and a failure is still that batch's.

This module imports only the standard library: the child starts in a few tens of
milliseconds, and the parent's side is a few lines of framing. Rows cross the pipe in
``marshal``'s format (both ends are the same interpreter), which holds exactly the values
SQLite is given: ``str``, ``int``, ``float``, ``bytes``, ``None``.

The child commits only a whole message: if the parent dies (even by SIGKILL) the child
reads the end of its input, half a message being no message, and exits. It ignores
Ctrl-C (it runs in a session of its own), so that a sync stopped by the user can still
commit the page it is on.
"""

from __future__ import annotations

import contextlib
import functools
import marshal
import signal
import sqlite3
import struct
import subprocess
import sys
import threading
import weakref
from collections.abc import Sequence
from itertools import chain
from typing import IO, Any

ROWS_PER_STATEMENT = 500
"""Rows written by one multi-row ``INSERT`` (fewer when SQLite allows fewer parameters)."""

Statement = tuple[str, int, Sequence[tuple[Any, ...]]]
"""An ``INSERT`` for one row (``width`` parameters), and the rows to run it for."""

_HEADER = struct.Struct("!Q")
_PIPE_BYTES = 1 << 20
"""Asked of the pipe to the child (Linux): a batch of 1,000 transactions is about 1.5 MB."""


Counted = tuple[int, int, int]
"""Of a table's rows in a commit: how many were new, how many changed a row already stored,
and how many there were (the rest were left as they were by the conflict rule)."""


def execute(
    connection: sqlite3.Connection,
    statements: Sequence[Statement],
    counted: Sequence[str] = (),
) -> dict[str, Counted]:
    """Run every statement for its rows, in order, in the connection's current transaction.

    Rows go as multi-row ``INSERT ... VALUES (...), (...), ...`` statements of up to
    ``ROWS_PER_STATEMENT`` rows: each runs in C from its first row to its last. (With
    ``executemany`` the writing thread takes the GIL back after every row; measured four
    times slower beside a busy thread.) The values bound are the same.

    For the tables named in ``counted`` (quoted, as in the statements), how many rows were
    new, how many changed and how many there were, by table: from SQLite's count of changed
    rows and the rowids past the largest before, two indexed lookups per statement, nothing
    per row.
    """
    limit = connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    counts: dict[str, Counted] = {}
    for sql, width, rows in statements:
        table = _table(sql) if counted else ""
        counting = table in counted
        if counting:
            last = connection.execute(f"SELECT max(rowid) FROM {table}").fetchone()[0]  # noqa: S608
        step = max(1, min(ROWS_PER_STATEMENT, limit // max(1, width)))
        # The rows each statement changed itself (its cursor's rowcount): not the
        # connection's total_changes, which also counts what triggers (the search index) did.
        written = 0
        if step == 1 or len(rows) == 1:
            written = connection.executemany(sql, rows).rowcount
        else:
            for start in range(0, len(rows), step):
                chunk = rows[start : start + step]
                many = _many(sql, width, len(chunk))
                written += connection.execute(many, tuple(chain.from_iterable(chunk))).rowcount
        if counting:
            new = connection.execute(
                f"SELECT count(*) FROM {table} WHERE rowid > ?",  # noqa: S608
                (last or 0,),
            ).fetchone()[0]
            before = counts.get(table, (0, 0, 0))
            counts[table] = (before[0] + new, before[1] + written - new, before[2] + len(rows))
    return counts


def _table(sql: str) -> str:
    """The (quoted) table an ``INSERT INTO table (...)`` statement writes."""
    return sql.removeprefix("INSERT INTO ").split(" (", 1)[0]


@functools.lru_cache(maxsize=256)  # a full chunk and the odd remainder, for each table
def _many(sql: str, width: int, count: int) -> str:
    """``sql`` (one row's ``VALUES (?, ...)``) written for ``count`` rows."""
    one = f"VALUES ({', '.join('?' * width)})"
    if sql.count(one) != 1:
        raise AssertionError(f"unexpected statement shape: {sql[:200]}")
    rows = ", ".join([one.removeprefix("VALUES ")] * count)
    return sql.replace(one, "VALUES " + rows)


class Unsendable(ValueError):
    """The statements hold a value the pipe does not carry (none of portal's own rows do)."""


class WriterFailed(sqlite3.OperationalError):
    """The writer process ended (or was ended here) without answering a commit."""


class WriterProcess:
    """The parent's end: a child process holding a write connection to one SQLite file.

    ``commit`` sends one batch's statements and waits until the child has committed them
    (or raises what the child's SQLite raised, as the same ``sqlite3`` error class). It may
    be called from several threads; they take turns, as SQLite's writers would anyway.
    """

    def __init__(self, path: str, pragmas: Sequence[str]) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._process = subprocess.Popen(  # noqa: S603 - this interpreter, no shell
            [sys.executable, "-m", "portal.store_writer", path],  # the path shows in ps
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # Ctrl-C in the terminal is the parent's to handle
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._to, self._from = self._process.stdin, self._process.stdout
        _widen(self._to)
        self._ready = False
        self._cut_off = False
        # Closed with the store, or else when it is collected or the interpreter exits.
        self._finalizer = weakref.finalize(self, _shut, self._process, 10.0)
        self._send(list(pragmas))

    def __repr__(self) -> str:
        return f"WriterProcess({self.path!r}, pid={self.pid})"

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self._process.pid

    def commit(
        self, statements: Sequence[Statement], counted: Sequence[str] = ()
    ) -> dict[str, Counted]:
        """Write ``statements`` in one transaction; return once it is committed, with
        ``execute``'s counts for the tables in ``counted``."""
        try:
            message = marshal.dumps((statements, tuple(counted)))  # type: ignore[arg-type]
        except ValueError as error:
            raise Unsendable(str(error)) from None
        with self._lock:
            if self._cut_off:
                raise self._stopped("an earlier commit was cut off before its answer")
            # Until an answer is read (interrupted before, the next commit would read it).
            self._cut_off = True
            try:
                if not self._ready:
                    self._answer()
                    self._ready = True
                self._send(message)
                del message  # not held while the child writes (a batch's is a MB or two)
                counts = self._answer()
            except sqlite3.Error:
                self._cut_off = False  # an answer: the child's error (or its end)
                raise
            self._cut_off = False
        return counts

    def close(self, timeout: float = 10.0) -> None:
        """Let the child finish and exit (it has nothing uncommitted between messages)."""
        with self._lock:
            self._finalizer.detach()
            _shut(self._process, timeout)

    def _send(self, message: bytes | Any) -> None:
        data = message if isinstance(message, bytes) else marshal.dumps(message)
        try:
            self._to.write(_HEADER.pack(len(data)))
            self._to.write(data)
            self._to.flush()
        except (BrokenPipeError, ValueError):
            raise self._stopped() from None

    def _answer(self) -> dict[str, Counted]:
        answer = _read(self._from)
        if answer is None:
            raise self._stopped()
        if answer[0] == "ok":
            return answer[1] if len(answer) > 1 else {}
        _, kind, text = answer
        error = getattr(sqlite3, kind, None)
        if not (isinstance(error, type) and issubclass(error, sqlite3.Error)):
            error = sqlite3.Error
        raise error(text)

    def _stopped(self, why: str = "") -> WriterFailed:
        """The error for a child that is gone (or stopped here because it cannot go on)."""
        code = self._process.poll()
        if code is None:
            self._process.kill()
            code = self._process.wait()
        detail = f": {why}" if why else ""
        if self._process.stderr is not None and not why:
            lines = self._process.stderr.read().decode(errors="replace").strip().splitlines()
            detail = f": {lines[-1]}" if lines else ""
        return WriterFailed(f"the store's writer process stopped (exit code {code}){detail}")


def _shut(process: subprocess.Popen[bytes], timeout: float) -> None:
    """Close the child's input (it then exits) and wait for it; kill it if it lingers."""
    for pipe in (process.stdin, process.stdout):
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stderr is not None:
        process.stderr.close()


def _widen(pipe: IO[bytes]) -> None:
    """Ask for a pipe buffer of ``_PIPE_BYTES``, where the system lets one ask (Linux)."""
    try:
        import fcntl

        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass


def _read(pipe: IO[bytes]) -> Any | None:
    """The next whole message, or None at the end of the input (or in the middle of one)."""
    header = pipe.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    data = pipe.read(size)
    if len(data) < size:
        return None
    return marshal.loads(data)  # noqa: S302 - from our own process, at the other end


def _reply(pipe: IO[bytes], answer: tuple[Any, ...]) -> None:
    data = marshal.dumps(answer)
    pipe.write(_HEADER.pack(len(data)) + data)
    pipe.flush()


def main() -> None:
    """The child: open the store, then commit each message until the input ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    given, answers = sys.stdin.buffer, sys.stdout.buffer
    pragmas = _read(given)
    if pragmas is None:
        return
    path = sys.argv[1]
    try:
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in pragmas:
            connection.execute(pragma)
    except sqlite3.Error as error:
        _reply(answers, ("error", type(error).__name__, str(error)))
        return
    _reply(answers, ("ok",))
    while (message := _read(given)) is not None:
        statements, counted = message
        try:
            connection.execute("BEGIN")
            counts = execute(connection, statements, counted)
            connection.execute("COMMIT")
        except sqlite3.Error as error:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            answer: tuple[Any, ...] = ("error", type(error).__name__, str(error))
        else:
            answer = ("ok", counts)
        try:
            _reply(answers, answer)
        except BrokenPipeError:
            break  # the parent is gone; what was committed stays committed
    connection.close()


if __name__ == "__main__":
    main()
