"""The ``phasegate`` command line. Output meant for scripts goes to stdout; logs to stderr."""

from typing import Any

from phasegate.cli._app import main, whole

__all__ = ["app", "main"]


def __getattr__(name: str) -> Any:
    if name == "app":  # the whole app, built when first asked for (``_app.whole``)
        return whole()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
