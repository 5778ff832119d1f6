"""Every broken model and charter fails with the exact path and a message that says why."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

import governance as g
from tests.governance.gov_cases import (
    CASES,
    CHARTER_CASES,
    MODEL_CASES,
    PF_CHARTER,
    Broken,
    dump,
    library_issues,
)


def test_cases_are_distinct_and_many() -> None:
    assert len({c.id for c in CASES}) == len(CASES)
    assert len({(c.text, *sorted(c.files.values())) for c in CASES}) == len(CASES)
    assert len(MODEL_CASES) >= 15
    assert len(CHARTER_CASES) >= 15


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_broken_document_names_the_field_and_the_reason(case: Broken, tmp_path: Path) -> None:
    issues = library_issues(case, tmp_path)
    at_path = [i for i in issues if i.path == case.path]
    assert at_path, f"no issue at {case.path}; got: {[str(i) for i in issues]}"
    assert any(all(w in i.message for w in case.words) for i in at_path), [str(i) for i in at_path]
    assert len(issues) == case.issues, [str(i) for i in issues]
    for issue in issues:
        assert "\n" not in str(issue)
        assert issue.message.count("got ") <= 1, str(issue)  # the value is shown once


def test_issues_keep_their_path_when_parsed_from_text() -> None:
    # The same mistake through parse_model (no file): the path survives the model validator.
    case = next(c for c in MODEL_CASES if c.id == "negative-sla")
    with pytest.raises(g.GovernanceError) as info:
        g.parse_model(case.text, "inline.yaml")
    assert [str(i) for i in info.value.issues] == [
        "phases[2].gate.sla: must be a positive ISO-8601 duration (e.g. P3D, P2W, PT15M), "
        'got "-P3D"'
    ]
    assert info.value.source == "inline.yaml"
    assert str(info.value).startswith("inline.yaml: 1 problem(s)\n  phases[2].gate.sla: ")


def test_looser_tolerance_is_accepted_with_a_tolerances_waiver_from_the_executive(
    tmp_path: Path,
) -> None:
    data = copy.deepcopy(PF_CHARTER)
    data["tolerances"]["project"]["cost"] = "12%"
    data["waivers"] = [
        {"rule": "tolerances", "reason": "Regulator demands a wider band.", "granted_by": "anna"}
    ]
    path = tmp_path / "waived.yaml"
    path.write_text(dump(data), encoding="utf-8")
    charter, model = g.load_project(path)
    assert charter.tolerances.project is not None
    assert charter.tolerances.project.cost == 12
    assert charter.waived("tolerances") and not charter.waived("human_scale")
    assert model.ref == "projektflodet@1.0"


def test_a_human_scale_waiver_does_not_waive_tolerances(tmp_path: Path) -> None:
    data = copy.deepcopy(PF_CHARTER)
    data["tolerances"]["project"]["cost"] = "12%"
    data["waivers"] = [
        {"rule": "human_scale", "reason": "Regulator demands a wider band.", "granted_by": "anna"}
    ]
    path = tmp_path / "wrong-waiver.yaml"
    path.write_text(dump(data), encoding="utf-8")
    with pytest.raises(g.GovernanceError) as info:
        g.load_project(path)
    assert [i.path for i in info.value.issues] == ["tolerances.project.cost"]


def test_over_human_scale_is_accepted_with_a_waiver_from_the_executive(tmp_path: Path) -> None:
    data = copy.deepcopy(PF_CHARTER)
    data["baseline"].update(budget=2_500_000, team_size=40)
    data["waivers"] = [
        {"rule": "human_scale", "reason": "One cut-over; cannot be split.", "granted_by": "anna"}
    ]
    path = tmp_path / "big.yaml"
    path.write_text(dump(data), encoding="utf-8")
    charter, _ = g.load_project(path)
    assert charter.baseline.team_size == 40


def test_tighter_tolerance_needs_no_waiver(
    pf_charter: g.Charter, projektflodet: g.GovernanceModel
) -> None:
    assert pf_charter.tolerances.project is not None
    assert pf_charter.tolerances.project.cost == 8
    assert g.check_charter(pf_charter, projektflodet) == []


def test_charter_against_the_wrong_model_lists_every_unknown_role(
    pf_charter: g.Charter, prince2: g.GovernanceModel
) -> None:
    issues = g.check_charter(pf_charter, prince2)
    assert issues[0] == g.Issue(
        "model", 'names "projektflodet@1.0" but the model given is "prince2@2.0"'
    )
    unknown = [i for i in issues if i.path.startswith("people[")]
    assert len(unknown) == len(pf_charter.people)
    with pytest.raises(g.GovernanceError):
        g.ensure_valid(pf_charter, prince2)


def test_read_yaml_counts_bytes_not_characters() -> None:
    # 400 000 three-byte characters: 1.2 MB though only 400 000 characters long.
    text = "title: " + "€" * 400_000 + "\n"
    with pytest.raises(g.GovernanceError) as info:
        g.read_yaml(text)
    assert info.value.issues[0].path == "(document)"
    assert "the limit is 1000000" in info.value.issues[0].message


def test_unknown_builtin_name_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(g.GovernanceError) as info:
        g.load_model("safe")
    assert info.value.issues == [
        g.Issue(
            "(model)",
            'no built-in model "safe" (built-in: prince2, projektflodet); a model file is named '
            "by its path, e.g. ./safe.yaml",
        )
    ]
    with pytest.raises(g.GovernanceError) as info:
        g.load_charter(tmp_path / "absent.yaml")
    assert info.value.issues[0].path == "(file)"
