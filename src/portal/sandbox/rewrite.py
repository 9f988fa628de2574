"""Answers rewritten on their way out: a sandbox serving its data in another shape.

``Sandbox.rewrite_answers(rewrite)`` passes the body of every successful API answer (the
authorization server's are left alone) through ``rewrite(path, content_type, body)`` and
serves what it returns, so a client meets the other shape on the wire, exactly as it would
meet a provider's. The conformance suite uses it to serve the answers a provider's
specification allows (``portal.specvariants``).
"""

from __future__ import annotations

from collections.abc import Callable

import flask

Rewrite = Callable[[str, str, bytes], bytes]
"""``rewrite(path, content_type, body)``: the body to serve instead."""


class AnswerRewriter:
    """Installs an after-request hook into a sandbox's Flask app; off until ``set`` is called."""

    def __init__(self, *, skip: tuple[str, ...]) -> None:
        self._skip = skip
        self.rewrite: Rewrite | None = None

    def install(self, app: flask.Flask) -> None:
        """Hook the rewriter into ``app``'s request cycle."""
        app.after_request(self._after)

    def _after(self, response: flask.Response) -> flask.Response:
        rewrite = self.rewrite
        path = flask.request.path
        if rewrite is None or path.startswith(self._skip) or not 200 <= response.status_code < 300:
            return response
        response.direct_passthrough = False  # a file answer: read it so it can be rewritten
        response.set_data(rewrite(path, response.content_type or "", response.get_data()))
        return response


__all__ = ["AnswerRewriter", "Rewrite"]
