"""The third-party tables validation looks values up in, loaded on first use: the holidays
library's countries (a model's calendar), pycountry's currencies and the e-mail checker (a
charter's baseline and people). Importing ``governance`` loads none of them, so that a command
that checks no model or charter does not pay for them."""

from __future__ import annotations

from governance._calendar import known_country
from governance._types import iso_4217


def load_lookups() -> None:
    """Load them all now. A worker calls this before its first workflow task: a workflow's
    input (a model, a charter) is validated again inside Temporal's workflow sandbox, which
    refuses to open a file (pycountry reads its database from one on first use), and where a
    first import counts against the workflow task's deadline."""
    from pydantic.networks import import_email_validator

    known_country("SE")
    iso_4217()
    import_email_validator()
