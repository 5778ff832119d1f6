from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator

import pytest
import structlog

from phasegate.logging import QUIET_LIBRARIES, configure_logging


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in QUIET_LIBRARIES}
    yield
    for name, quiet_level in quiet.items():
        logging.getLogger(name).setLevel(quiet_level)
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_json_on_stderr_for_structlog_and_stdlib_with_context(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert configure_logging("auto", "INFO") == "json"  # captured stderr is not a TTY
    structlog.contextvars.bind_contextvars(project_id="p-1")
    structlog.get_logger("phasegate.test").info("gate decided", gate="g1")
    logging.getLogger("temporalio.worker").warning("poll %s failed", "x", extra={"attempt": 2})

    out, err = capsys.readouterr()
    assert out == ""
    ours, theirs = json_lines(err)
    assert ours["event"] == "gate decided"
    assert ours["gate"] == "g1"
    assert ours["project_id"] == "p-1"
    assert ours["level"] == "info"
    assert ours["logger"] == "phasegate.test"
    assert str(ours["timestamp"]).endswith("Z")
    assert theirs["event"] == "poll x failed"
    assert theirs["level"] == "warning"
    assert theirs["logger"] == "temporalio.worker"
    assert theirs["project_id"] == "p-1"
    assert theirs["attempt"] == 2


def test_exceptions_render_as_structured_json(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json")
    try:
        raise ValueError("boom")
    except ValueError:
        structlog.get_logger().exception("failed")
    (line,) = json_lines(capsys.readouterr().err)
    assert line["exception"][0]["exc_type"] == "ValueError"  # type: ignore[index]


def test_level_filters_structlog_and_stdlib(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json", "warning")
    structlog.get_logger().info("hidden")
    logging.getLogger("temporalio").info("hidden too")
    structlog.get_logger().warning("shown")
    assert [line["event"] for line in json_lines(capsys.readouterr().err)] == ["shown"]


def test_transitions_logs_from_warning_up_unless_the_level_is_debug(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """At info (what ``phasegate dev`` and ``worker`` run at), the state machine library's
    per-callback info lines are dropped; its warnings stay; debug shows everything."""
    machine = logging.getLogger("transitions.core")
    configure_logging("json", "INFO")
    machine.info("Finished processing state idea exit callbacks.")
    machine.warning("Can't trigger event go from state idea!")
    structlog.get_logger("phasegate.worker").info("worker.started")
    assert [line["event"] for line in json_lines(capsys.readouterr().err)] == [
        "Can't trigger event go from state idea!",
        "worker.started",
    ]

    configure_logging("json", "DEBUG")
    machine.info("Finished processing state idea_gate enter callbacks.")
    structlog.get_logger("phasegate.activities").debug("audit.recorded")
    assert [line["event"] for line in json_lines(capsys.readouterr().err)] == [
        "Finished processing state idea_gate enter callbacks.",
        "audit.recorded",
    ]

    configure_logging("json", "INFO")  # back from debug: quiet again
    machine.info("hidden")
    structlog.get_logger("phasegate.activities").debug("hidden too")
    assert capsys.readouterr().err == ""


def test_configuring_twice_keeps_one_handler_and_the_last_format(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("console")
    configure_logging("json")
    structlog.get_logger().info("once")
    assert [line["event"] for line in json_lines(capsys.readouterr().err)] == ["once"]


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_auto_is_console_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = FakeTerminal()
    monkeypatch.setattr("sys.stderr", terminal)
    monkeypatch.setenv("NO_COLOR", "1")
    assert configure_logging() == "console"
    structlog.get_logger("phasegate.test").info("hello", phase="planning")
    line = terminal.getvalue()
    assert "hello" in line
    assert "phase=planning" in line
    assert not line.lstrip().startswith("{")


def test_unknown_format_or_level_is_an_error() -> None:
    with pytest.raises(ValueError, match="format"):
        configure_logging("xml")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="level"):
        configure_logging("json", "LOUD")


def test_a_short_command_s_logging_imports_structlog_only_when_a_line_is_written() -> None:
    """``structlog_loggers=False`` (the CLI's short commands): configured without importing
    structlog (and the rich it imports); the first record written renders as before."""
    code = (
        "import logging, sys\n"
        "from phasegate.logging import configure_logging\n"
        "configure_logging('json', 'WARNING', structlog_loggers=False)\n"
        "logging.getLogger('temporalio').info('hidden')\n"
        "print('structlog' in sys.modules, 'rich' in sys.modules)\n"
        "logging.getLogger('temporalio.client').warning('retry %s', 3, extra={'attempt': 2})\n"
        "print('structlog' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False", "True"]
    (line,) = json_lines(done.stderr)
    assert line["event"] == "retry 3"
    assert line["level"] == "warning"
    assert line["logger"] == "temporalio.client"
    assert line["attempt"] == 2
    assert str(line["timestamp"]).endswith("Z")


def test_without_structlog_loggers_stdlib_lines_are_the_same(
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = []
    for structlog_loggers in (True, False):
        configure_logging("json", "INFO", structlog_loggers=structlog_loggers)
        logging.getLogger("phasegate.test.stdlib").info("select %d", 1, extra={"rows": 0})
        (line,) = json_lines(capsys.readouterr().err)
        del line["timestamp"]
        lines.append(line)
    assert lines[0] == lines[1]
    assert (lines[0]["event"], lines[0]["logger"], lines[0]["rows"]) == (
        "select 1",
        "phasegate.test.stdlib",
        0,
    )


def test_alembic_dialect_lines_and_uvicorn_start_up_are_debug_and_color_message_never_shows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At info (`phasegate dev`, `api`, `worker`) on a terminal, alembic's "Context impl" /
    "Will assume" lines and uvicorn's start-up steps are dropped, its migrations, warnings and
    errors stay; debug shows them all, never with uvicorn's raw `color_message`."""
    terminal = FakeTerminal()
    monkeypatch.setattr("sys.stderr", terminal)
    monkeypatch.setenv("NO_COLOR", "1")
    migration = logging.getLogger("alembic.runtime.migration")
    server = logging.getLogger("uvicorn.error")

    def start_up() -> list[str]:
        terminal.seek(0)
        terminal.truncate()
        migration.info("Context impl SQLiteImpl.")
        migration.info("Will assume non-transactional DDL.")
        migration.info("Running upgrade  -> 0001, Initial ledger")
        colours = "Started server process [\x1b[36m%d\x1b[0m]"
        server.info("Started server process [%d]", 42, extra={"color_message": colours})
        server.info("Waiting for application startup.")
        server.info("Application startup complete.")
        server.warning("Invalid HTTP request received.", extra={"color_message": colours})
        server.error("[Errno 98] address already in use")
        return terminal.getvalue().splitlines()

    assert configure_logging("auto", "INFO") == "console"
    lines = start_up()
    assert len(lines) == 3, lines
    assert "[info     ] Running upgrade  -> 0001, Initial ledger" in lines[0]
    assert "[warning  ] Invalid HTTP request received." in lines[1]
    assert "[error    ] [Errno 98] address already in use" in lines[2]
    assert "color_message" not in "".join(lines)

    configure_logging("auto", "DEBUG")
    lines = start_up()
    assert len(lines) == 8, lines
    assert "[debug    ] Context impl SQLiteImpl." in lines[0]
    assert "[debug    ] Will assume non-transactional DDL." in lines[1]
    assert "Started server process [42]" in lines[3]
    assert "color_message" not in "".join(lines)
    assert "\x1b" not in "".join(lines)
