"""The ``phasegate`` command line. Output meant for scripts goes to stdout; logs to stderr."""

from phasegate.cli._app import app, main

__all__ = ["app", "main"]
