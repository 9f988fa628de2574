"""Log redaction: every form a library writes a secret in comes out as [redacted]."""

import logging
import sys

import pytest

from portal.auth.redaction import Redact, redact


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "GET http://127.0.0.1:5/callback?code=abc123&state=xyz HTTP/1.1",
            "GET http://127.0.0.1:5/callback?code=[redacted]&state=[redacted] HTTP/1.1",
        ),
        (
            "Issue token {'access_token': 'AT', 'token_type': 'Bearer', 'refresh_token': 'RT'}",
            "Issue token {'access_token': '[redacted]', 'token_type': 'Bearer',"
            " 'refresh_token': '[redacted]'}",
        ),
        (
            '{"id_token": "eyJ.x.y", "expires_in": 60}',
            '{"id_token": "[redacted]", "expires_in": 60}',
        ),
        ("Authorization: Bearer abc.def-ghi", "Authorization: Bearer [redacted]"),
        (
            "token_type_hint=refresh_token&token=RT",
            "token_type_hint=refresh_token&token=[redacted]",
        ),
        ("code_challenge=abc&response_type=code", "code_challenge=abc&response_type=code"),
    ],
)
def test_secret_values_are_redacted_and_nothing_else(line: str, expected: str) -> None:
    assert redact(line) == expected


def test_the_filter_rewrites_arguments_and_tracebacks() -> None:
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "GET %s", ("/cb?code=c1",), None)
    try:
        raise ValueError("refresh_token=r1 refused")
    except ValueError:
        record.exc_info = sys.exc_info()
    assert Redact().filter(record)
    assert record.getMessage() == "GET /cb?code=[redacted]"
    assert record.exc_text is not None and "r1" not in record.exc_text
