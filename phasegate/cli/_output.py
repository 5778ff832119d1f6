"""Human output: every line a command prints for people goes through ``say``, which escapes
terminal control characters, so that a title or comment holding ESC, CR or a bidi override
cannot recolour, retitle, hyperlink or rewrite the reader's terminal. ``safe`` also escapes
newline and tab, for values inside one line or a column."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from rich.console import Console

_BIDI_AND_SEPARATORS = "\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI_AND_SEPARATORS}]")
_CONTROL_IN_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI_AND_SEPARATORS}]")
_UNESCAPED_IN_JSON = re.compile(f"[\x7f-\x9f{_BIDI_AND_SEPARATORS}]")
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def safe(value: object) -> str:
    """``value`` as text for one line or one column: every control character escaped
    (``\\x1b``, ``\\n``, ``\\t``, ``\\u202e``)."""
    return _CONTROL_IN_LINE.sub(_escape, str(value))


def say(text: str = "", *, err: bool = False) -> None:
    """Print for people (stdout, or stderr with ``err``); control characters other than
    newline and tab are escaped."""
    typer.echo(_CONTROL.sub(_escape, text), err=err)


def json_text(text: str) -> str:
    """JSON text safe for a terminal: JSON encoders escape C0 controls already; DEL, C1,
    bidi controls and line separators become ``\\uXXXX`` too (the same JSON value)."""
    return _UNESCAPED_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def table_console() -> Console:
    """A console for tables of data (`model show`, iterations): no markup, no emoji codes, no
    highlighting, since the texts are data. At least 120 columns on a terminal; piped (a file,
    grep, a test) 200, where rich would give 80 and cut lists short."""
    from rich.console import Console

    probe = Console()
    return Console(
        width=max(probe.width, 120 if probe.is_terminal else 200),
        markup=False,
        emoji=False,
        highlight=False,
    )
