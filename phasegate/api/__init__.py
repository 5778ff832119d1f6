"""The REST API: FastAPI over the same service functions as the CLI, as the authenticated
person (``create_app``; ``phasegate api`` serves it)."""

from phasegate.api._app import create_app

__all__ = ["create_app"]
