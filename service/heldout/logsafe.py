"""Log lines nobody can forge: control characters in logged values are escaped.

A request path such as ``/x%0a2026-01-01 INFO … GET /admin 200`` is decoded to a real newline
before it is logged; written as-is it would add a forged line to the log. The formatter here
escapes every control character of the message (``\\n`` → ``\\\\n``, others → ``\\\\xNN`` or
``\\\\uNNNN``), so one record is one line. Tracebacks keep their line breaks, but each of their
lines is indented, so no line of one can pass for the start of a record.
"""

from __future__ import annotations

import logging
import re

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
CONTINUATION = "    "


def _escape_one(match: re.Match[str]) -> str:
    char = match.group(0)
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_control(text: str) -> str:
    """``text`` with every control character written as a visible escape."""
    return _CONTROL.sub(_escape_one, text)


def escape_block(text: str) -> str:
    """A multi-line block (a traceback): lines kept, each escaped and indented."""
    return "\n".join(CONTINUATION + escape_control(line) for line in text.splitlines())


class EscapingFormatter(logging.Formatter):
    """A Formatter whose every record is one line, plus indented traceback lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape_control(record.message)
        return super().formatMessage(record)

    def formatException(self, ei: object) -> str:
        return escape_block(super().formatException(ei))  # type: ignore[arg-type]

    def formatStack(self, stack_info: str) -> str:
        return escape_block(super().formatStack(stack_info))
