"""Search attributes the project workflow keeps current, for portfolio queries."""

from temporalio.common import SearchAttributeKey

PHASE = SearchAttributeKey.for_keyword("PhasegatePhase")
"""The project's current phase (or closed / cancelled)."""
MODEL = SearchAttributeKey.for_keyword("PhasegateModel")
"""The governance model the project is pinned to, ``name@version``."""
AWAITING = SearchAttributeKey.for_keyword("PhasegateAwaiting")
"""What the project waits for: ``gate:<phase>_gate``, ``hold``; unset when nothing."""
PROJECT = SearchAttributeKey.for_keyword("PhasegateProject")
"""The project's business key (the charter's slug)."""
RAG = SearchAttributeKey.for_keyword("PhasegateRag")
"""The worst RAG colour over the project's aspects and levels (green, amber, red); unset until
the first progress report."""
