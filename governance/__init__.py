"""The governance domain: models, charters, messages and audit events. Pure: no I/O beyond
reading the YAML a caller points at, no Temporal.

The names below are imported from their modules when first used (a module ``__getattr__``,
PEP 562), not when ``governance`` is: a command that reads a model (``model list``) then
loads the model language, not the charter, the reports and the forecasts besides."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from governance._calendar import cadence_times, days_off_between, known_country, working_day
    from governance._charter import (
        Baseline,
        Charter,
        Person,
        PlannedValue,
        Scope,
        ToleranceOverrides,
        Waiver,
        WorkPackage,
        check_charter,
        ensure_valid,
    )
    from governance._earned_value import EarnedValue, earned_value, planned_value
    from governance._errors import GovernanceError, Issue, format_path
    from governance._iteration import plan_problem
    from governance._load import (
        builtin_model,
        builtin_models,
        load_charter,
        load_model,
        load_project,
        load_work_items,
        parse_charter,
        parse_model,
        parse_work_items,
    )
    from governance._lookups import load_lookups
    from governance._model import (
        ASPECTS,
        AtLeast,
        Board,
        CalendarPolicy,
        Ceremony,
        ChangeControl,
        DecisionRule,
        DelegationPolicy,
        DemoPolicy,
        EscalationLevel,
        Gate,
        GateTask,
        GovernanceModel,
        HumanScale,
        IterationPolicy,
        Phase,
        Role,
        Tolerances,
    )
    from governance._quorum import (
        advisers,
        escalation_deciders,
        escalation_shortfalls,
        four_eyes,
        gate_shortfalls,
        gate_voters,
    )
    from governance._rag import (
        AspectStatus,
        Colour,
        ControlFigures,
        RagReport,
        deviation,
        effective_tolerances,
        package_tolerances,
        rag,
    )
    from governance._reports import (
        Breach,
        ChangeOverdraw,
        ExceptionReport,
        HighlightReport,
        PackageRef,
        exception_report,
        highlight_report,
        render_report,
    )
    from governance._tally import Tally, eligible_approvers, tally
    from governance._types import (
        Line,
        Slug,
        Text,
        format_duration,
        is_model_ref,
        parse_duration,
        split_ref,
    )
    from governance._velocity import Forecast, forecast
    from governance._yaml import MAX_DOCUMENT_BYTES, read_yaml, read_yaml_list

_HOME: dict[str, tuple[str, ...]] = {
    "_calendar": ("cadence_times", "days_off_between", "known_country", "working_day"),
    "_charter": (
        "Baseline",
        "Charter",
        "Person",
        "PlannedValue",
        "Scope",
        "ToleranceOverrides",
        "Waiver",
        "WorkPackage",
        "check_charter",
        "ensure_valid",
    ),
    "_earned_value": ("EarnedValue", "earned_value", "planned_value"),
    "_errors": ("GovernanceError", "Issue", "format_path"),
    "_iteration": ("plan_problem",),
    "_load": (
        "builtin_model",
        "builtin_models",
        "load_charter",
        "load_model",
        "load_project",
        "load_work_items",
        "parse_charter",
        "parse_model",
        "parse_work_items",
    ),
    "_lookups": ("load_lookups",),
    "_model": (
        "ASPECTS",
        "AtLeast",
        "Board",
        "CalendarPolicy",
        "Ceremony",
        "ChangeControl",
        "DecisionRule",
        "DelegationPolicy",
        "DemoPolicy",
        "EscalationLevel",
        "Gate",
        "GateTask",
        "GovernanceModel",
        "HumanScale",
        "IterationPolicy",
        "Phase",
        "Role",
        "Tolerances",
    ),
    "_quorum": (
        "advisers",
        "escalation_deciders",
        "escalation_shortfalls",
        "four_eyes",
        "gate_shortfalls",
        "gate_voters",
    ),
    "_rag": (
        "AspectStatus",
        "Colour",
        "ControlFigures",
        "RagReport",
        "deviation",
        "effective_tolerances",
        "package_tolerances",
        "rag",
    ),
    "_reports": (
        "Breach",
        "ChangeOverdraw",
        "ExceptionReport",
        "HighlightReport",
        "PackageRef",
        "exception_report",
        "highlight_report",
        "render_report",
    ),
    "_tally": ("Tally", "eligible_approvers", "tally"),
    "_types": (
        "Line",
        "Slug",
        "Text",
        "format_duration",
        "is_model_ref",
        "parse_duration",
        "split_ref",
    ),
    "_velocity": ("Forecast", "forecast"),
    "_yaml": ("MAX_DOCUMENT_BYTES", "read_yaml", "read_yaml_list"),
}
"""Each module of the face and the names it gives."""
_WHERE = {name: module for module, names in _HOME.items() for name in names}

__all__ = [
    "ASPECTS",
    "MAX_DOCUMENT_BYTES",
    "AspectStatus",
    "AtLeast",
    "Baseline",
    "Board",
    "Breach",
    "CalendarPolicy",
    "Ceremony",
    "ChangeControl",
    "ChangeOverdraw",
    "Charter",
    "Colour",
    "ControlFigures",
    "DecisionRule",
    "DelegationPolicy",
    "DemoPolicy",
    "EarnedValue",
    "EscalationLevel",
    "ExceptionReport",
    "Forecast",
    "Gate",
    "GateTask",
    "GovernanceError",
    "GovernanceModel",
    "HighlightReport",
    "HumanScale",
    "Issue",
    "IterationPolicy",
    "Line",
    "PackageRef",
    "Person",
    "Phase",
    "PlannedValue",
    "RagReport",
    "Role",
    "Scope",
    "Slug",
    "Tally",
    "Text",
    "ToleranceOverrides",
    "Tolerances",
    "Waiver",
    "WorkPackage",
    "advisers",
    "builtin_model",
    "builtin_models",
    "cadence_times",
    "check_charter",
    "days_off_between",
    "deviation",
    "earned_value",
    "effective_tolerances",
    "eligible_approvers",
    "ensure_valid",
    "escalation_deciders",
    "escalation_shortfalls",
    "exception_report",
    "forecast",
    "format_duration",
    "format_path",
    "four_eyes",
    "gate_shortfalls",
    "gate_voters",
    "highlight_report",
    "is_model_ref",
    "known_country",
    "load_charter",
    "load_lookups",
    "load_model",
    "load_project",
    "load_work_items",
    "package_tolerances",
    "parse_charter",
    "parse_duration",
    "parse_model",
    "parse_work_items",
    "plan_problem",
    "planned_value",
    "rag",
    "read_yaml",
    "read_yaml_list",
    "render_report",
    "split_ref",
    "tally",
    "working_day",
]


if not TYPE_CHECKING:  # for type checkers, the names are the ones imported above

    def __getattr__(name: str) -> Any:
        module = _WHERE.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"governance.{module}"), name)
        globals()[name] = value  # found here directly from now on
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
