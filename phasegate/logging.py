"""Logging setup for every phasegate process (CLI, worker, API): call ``configure_logging`` once.

structlog and the standard library (temporalio, SQLAlchemy, uvicorn, ...) share one pipeline and
one handler, so every line has the same shape: ISO timestamp (UTC), level, logger name, event,
context bound with ``structlog.contextvars.bind_contextvars``. Logs go to stderr; stdout is left
for command output that users script against.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from typing import TYPE_CHECKING, Any, Literal, TextIO

if TYPE_CHECKING:
    from structlog.typing import Processor

__all__ = ["QUIET_LIBRARIES", "configure_logging"]

QUIET_LIBRARIES = ("transitions", "alembic.runtime.plugins", "httpx", "uvicorn")
"""Libraries whose info lines say nothing a user acts on (transitions: each state's callbacks,
on every workflow replay too; alembic: the plugins it sets up on first use, its migrations
still show; httpx: every request's full URL, which for a webhook can hold its token; uvicorn:
its start-up and shut-down steps, where `phasegate dev` and `api` print the URL themselves):
logged from warning up, unless the level is debug."""

_CHATTER = {"alembic.runtime.migration": ("Context impl ", "Will assume ")}
"""Info lines of a logger that must show (alembic's migrations) which are debug in substance:
alembic names the database dialect on every connection it checks. Logged as debug."""

_DROPPED_EXTRAS = ("color_message",)
"""``extra=`` fields never rendered: uvicorn passes its message again with terminal colour
codes as ``color_message``."""

LogFormatName = Literal["auto", "json", "console"]


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at emit time (test runners and CLI runners swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _is_tty() -> bool:
    isatty = getattr(sys.stderr, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed stream
        return False


def configure_logging(
    fmt: LogFormatName = "auto", level: str | int = "INFO", *, structlog_loggers: bool = True
) -> str:
    """Configure structlog and stdlib logging for this process; return the format chosen.

    ``fmt="auto"`` renders for humans (``ConsoleRenderer``) when stderr, where logs go, is a
    terminal, and JSON lines otherwise (pipes, files, containers, CI). We test stderr rather
    than stdout so that ``phasegate ... | jq`` on a terminal still shows readable logs.

    The libraries in ``QUIET_LIBRARIES`` log from warning up, unless ``level`` is debug.

    structlog is imported when a record is first written, not here: importing it imports
    ``structlog.dev`` and rich (~0.1 s), and a short command mostly writes no log line. With
    ``structlog_loggers=False`` (a short command: only the standard library's loggers write,
    the SDK's, SQLAlchemy's) structlog's own loggers are not configured either, unless
    structlog is loaded already; a process whose code logs through ``structlog.get_logger``
    (the worker, the activities) keeps the default True.

    Calling it again replaces the previous configuration instead of adding handlers, so it is
    safe (idempotent) to call from every entry point and from tests.
    """
    if fmt not in ("auto", "json", "console"):
        raise ValueError(f"unknown log format {fmt!r}; use auto, json or console")
    tty = _is_tty()
    chosen = ("console" if tty else "json") if fmt == "auto" else fmt
    numeric_level = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(numeric_level, int):
        raise ValueError(f"unknown log level {level!r}")

    handler = _StderrHandler()
    handler.addFilter(_Chatter(debug=numeric_level <= logging.DEBUG))
    handler.setFormatter(_Deferred(chosen, colors=tty and "NO_COLOR" not in os.environ))

    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(numeric_level)
    for name in QUIET_LIBRARIES:  # NOTSET: the root's level decides
        quiet = numeric_level > logging.DEBUG
        logging.getLogger(name).setLevel(logging.WARNING if quiet else logging.NOTSET)

    if structlog_loggers or "structlog" in sys.modules:
        import structlog

        structlog.configure(
            processors=[
                structlog.stdlib.filter_by_level,
                *_shared(),
                structlog.stdlib.PositionalArgumentsFormatter(),
                structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
            ],
            logger_factory=structlog.stdlib.LoggerFactory(),
            wrapper_class=structlog.stdlib.BoundLogger,
            # Not cached: a module's logger follows a later configuration (a second configure
            # in one process, structlog.testing.capture_logs); the lookup costs microseconds.
            cache_logger_on_first_use=False,
        )
    return chosen


class _Chatter(logging.Filter):
    """The lines of ``_CHATTER`` as debug ones: dropped, unless the level is debug."""

    def __init__(self, *, debug: bool) -> None:
        super().__init__()
        self._debug = debug

    def filter(self, record: logging.LogRecord) -> bool:
        prefixes = _CHATTER.get(record.name)
        if prefixes is None or record.levelno != logging.INFO:
            return True
        if not str(record.msg).startswith(prefixes):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return self._debug


def _drop_extras(_logger: Any, _name: str, event_dict: Any) -> Any:
    """``event_dict`` without the ``_DROPPED_EXTRAS`` a library added."""
    for key in _DROPPED_EXTRAS:
        event_dict.pop(key, None)
    return event_dict


def _shared() -> list[Processor]:
    """What every line gets, from structlog's loggers and the standard library's alike."""
    import structlog

    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]


_SECRET = re.compile(r"pg_[0-9a-f]{12}_[A-Za-z0-9_\-]+|(?i:bearer)\s+[A-Za-z0-9._~+/=\-]+")


def _mask_secrets(_logger: Any, _name: str, line: Any) -> Any:
    """The rendered line with every API token and bearer credential masked: a secret must
    never reach a log, whatever a caller or a library put into the event."""
    return _SECRET.sub("[secret]", line) if isinstance(line, str) else line


def _formatter(chosen: str, *, colors: bool) -> logging.Formatter:
    import structlog

    final: list[Processor]
    # Tracebacks without their frames' locals: a request's locals hold its Authorization
    # header. What is written is masked for tokens besides (``_mask_secrets``).
    if chosen == "json":
        transform = structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
        final = [
            structlog.processors.ExceptionRenderer(transform),
            structlog.processors.JSONRenderer(),
            _mask_secrets,
        ]
    else:
        final = [
            structlog.dev.ConsoleRenderer(
                colors=colors,
                exception_formatter=structlog.dev.RichTracebackFormatter(show_locals=False),
            ),
            _mask_secrets,
        ]
    return structlog.stdlib.ProcessorFormatter(
        # Records from plain stdlib loggers get the same enrichment, plus their ``extra=``.
        foreign_pre_chain=[*_shared(), structlog.stdlib.ExtraAdder(), _drop_extras],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
    )


class _Deferred(logging.Formatter):
    """The structlog formatter, built (and structlog imported) at the first record written.
    The handler formats under its own lock, so it is built once."""

    def __init__(self, chosen: str, *, colors: bool) -> None:
        super().__init__()
        self._chosen, self._colors = chosen, colors
        self._formatter: logging.Formatter | None = None

    def format(self, record: logging.LogRecord) -> str:
        if self._formatter is None:
            self._formatter = _formatter(self._chosen, colors=self._colors)
        return self._formatter.format(record)
