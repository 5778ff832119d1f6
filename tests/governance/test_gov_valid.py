"""The built-in models and the example charters are sound, round-trip and hash stably."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

import governance as g
from tests.governance.gov_cases import BUILTIN, EXAMPLES, PF_CHARTER, PF_MODEL, dump

MODELS = g.builtin_models()


def test_both_builtin_models_are_shipped() -> None:
    assert sorted(MODELS) == ["prince2", "projektflodet"]
    assert MODELS["projektflodet"].ref == "projektflodet@1.0"
    assert MODELS["prince2"].ref == "prince2@2.0"


@pytest.mark.parametrize(
    ("charter", "model"),
    [("projektflodet-charter.yaml", "projektflodet"), ("prince2-charter.yaml", "prince2")],
)
def test_example_charters_validate_against_their_model(charter: str, model: str) -> None:
    c, m = g.load_project(EXAMPLES / charter)
    assert m is MODELS[model]
    assert g.check_charter(c, m) == []
    # Every gate can be decided by the people in the charter.
    for phase in m.phases:
        eligible = g.eligible_approvers(phase.gate, c)
        assert eligible and phase.gate.quorum(len(eligible)) <= len(eligible)


def test_projektflodet_reads_as_written() -> None:
    m = MODELS["projektflodet"]
    assert [p.id for p in m.phases] == [
        "idea", "pre_study", "planning", "execution", "closure", "benefits_realisation",
    ]  # fmt: skip
    execution = m.phase("execution")
    assert execution.iterative and execution.iteration is not None
    assert g.format_duration(execution.iteration.length) == "P2W"
    assert {c.name: g.format_duration(c.timebox) for c in execution.iteration.ceremonies} == {
        "standup": "PT15M", "demo": "PT1H", "retro": "PT1H30M",
    }  # fmt: skip
    benefits = m.phase("benefits_realisation")
    assert benefits.starts_after is not None and benefits.starts_after.days == 180
    assert benefits.gate.rule == g.AtLeast(at_least=1)
    assert m.human_scale == g.HumanScale(max_budget=1_000_000, max_people=25)
    assert m.board.executive == "bestallare"
    assert m.level_above("board") == m.level("portfolio")
    assert m.level_above("portfolio") is None


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_round_trips_through_json(name: str) -> None:
    m = MODELS[name]
    again = g.GovernanceModel.model_validate_json(m.model_dump_json())
    assert again == m
    assert again.content_hash() == m.content_hash()
    # The JSON form is what a user could have written: durations as ISO text, money as text.
    data = json.loads(m.model_dump_json())
    assert data["phases"][0]["gate"]["sla"] == {"prince2": "P1W", "projektflodet": "P10D"}[name]
    if m.human_scale is not None:
        assert data["human_scale"]["max_budget"] == "1000000"
    assert g.GovernanceModel.model_validate(data) == m


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_round_trips_through_its_own_yaml_dump(name: str) -> None:
    m = MODELS[name]
    again = g.parse_model(dump(m.model_dump(mode="json")))
    assert again == m


def test_content_hash_is_stable_and_independent_of_the_yaml_spelling() -> None:
    m = MODELS["projektflodet"]
    assert len(m.content_hash()) == 64
    assert m.content_hash() == m.content_hash()
    # The same model spelt differently (key order, P14D for P2W, 10 for "10%") hashes the same.
    data = copy.deepcopy(PF_MODEL)
    data = dict(reversed(list(data.items())))
    data["phases"][3]["iteration"]["length"] = "P14D"
    data["tolerances"]["project"]["cost"] = 10
    respelt = g.parse_model(yaml.safe_dump(data, allow_unicode=True))
    assert respelt == m
    assert respelt.content_hash() == m.content_hash()
    # Reloading from the file gives the same hash as the cached built-in.
    reloaded = g.parse_model((BUILTIN / "projektflodet.yaml").read_bytes())
    assert reloaded.content_hash() == m.content_hash()


@pytest.mark.parametrize(
    ("what", "edit"),
    [
        ("rule", lambda d: d["phases"][1]["gate"].update(rule="all")),
        ("sla", lambda d: d["phases"][1]["gate"].update(sla="P11D")),
        ("tolerance", lambda d: d["tolerances"]["project"].update(cost="9%")),
        ("approvers", lambda d: d["phases"][0]["gate"]["approvers"].append("leverantor")),
        ("title", lambda d: d["phases"][0].update(title="Idea")),
    ],
)
def test_content_hash_changes_when_a_rule_changes(
    what: str, edit: Callable[[dict[str, Any]], object]
) -> None:
    data = copy.deepcopy(PF_MODEL)
    edit(data)
    changed = g.parse_model(dump(data))
    assert changed != MODELS["projektflodet"]
    assert changed.content_hash() != MODELS["projektflodet"].content_hash(), what


def test_models_are_frozen() -> None:
    m = MODELS["prince2"]
    with pytest.raises(Exception, match="frozen"):
        m.phases[0].gate.sla = timedelta(days=1)  # type: ignore[misc]


def test_load_model_by_name_version_and_path(tmp_path: Path) -> None:
    assert g.load_model("prince2") is MODELS["prince2"]
    assert g.load_model("prince2@2.0") is MODELS["prince2"]
    with pytest.raises(g.GovernanceError) as info:
        g.load_model("prince2@9")
    assert str(info.value.issues[0]) == 'model: built-in "prince2" is version 2.0, not 9'
    target = tmp_path / "mine.yaml"
    target.write_bytes((BUILTIN / "prince2.yaml").read_bytes())
    assert g.load_model(target) == MODELS["prince2"]


def test_a_file_beside_the_charter_never_stands_in_for_its_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A weakened copy under the built-in's name and version, beside the charter or in the
    working directory (also as a file literally named projektflodet@1.0), is not used."""
    weak = copy.deepcopy(PF_MODEL)
    weak["phases"][0]["gate"]["forbid_self_approval"] = False
    for name in ("projektflodet.yaml", "projektflodet@1.0"):
        (tmp_path / name).write_text(dump(weak), encoding="utf-8")
    charter = tmp_path / "charter.yaml"
    charter.write_text(dump(PF_CHARTER), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert g.load_project(charter)[1] is MODELS["projektflodet"]
    assert g.load_model("projektflodet@1.0") is MODELS["projektflodet"]
    assert (
        g.load_model("./projektflodet@1.0").content_hash() != MODELS["projektflodet"].content_hash()
    )
    # A charter naming a model that is no built-in gets no file either.
    other = copy.deepcopy(PF_CHARTER)
    other["model"] = "custom@2.0"
    (tmp_path / "custom.yaml").write_text(dump({**PF_MODEL, "name": "custom", "version": "2.0"}))
    charter.write_text(dump(other), encoding="utf-8")
    with pytest.raises(g.GovernanceError) as info:
        g.load_project(charter)
    assert [i.path for i in info.value.issues] == ["model"]
    assert 'no built-in model "custom"' in info.value.issues[0].message


def test_schemas_describe_the_documents() -> None:
    model_schema = g.GovernanceModel.model_json_schema()
    charter_schema = g.Charter.model_json_schema()
    assert {"phases", "roles", "board", "tolerances"} <= set(model_schema["properties"])
    assert {"model", "people", "baseline", "waivers"} <= set(charter_schema["properties"])
    json.dumps(model_schema)
    json.dumps(charter_schema)
