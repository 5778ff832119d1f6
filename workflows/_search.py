"""Search attributes the project workflow keeps current, for portfolio queries."""

from temporalio.common import SearchAttributeKey

PHASE = SearchAttributeKey.for_keyword("PhasegatePhase")
MODEL = SearchAttributeKey.for_keyword("PhasegateModel")
AWAITING = SearchAttributeKey.for_keyword("PhasegateAwaiting")
PROJECT = SearchAttributeKey.for_keyword("PhasegateProject")
