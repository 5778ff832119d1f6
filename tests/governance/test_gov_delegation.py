"""The model's delegation policy: validated like the rest, and invisible to a model's content
hash while it is the default (models published before it keep their hash)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

import governance as g


def with_policy(model: g.GovernanceModel, policy: Any) -> dict[str, Any]:
    data = model.model_dump(mode="json")
    data["delegation"] = policy
    return data


def test_default_lets_anyone_in_the_charter_stand_in_and_keeps_the_hash(
    projektflodet: g.GovernanceModel,
) -> None:
    assert projektflodet.delegation == g.DelegationPolicy(allowed=True, within_roles=[])
    assert "delegation" not in projektflodet.canonical_json()
    explicit = g.GovernanceModel.model_validate(
        with_policy(projektflodet, {"allowed": True, "within_roles": []})
    )
    assert explicit.content_hash() == projektflodet.content_hash()
    limited = g.GovernanceModel.model_validate(
        with_policy(projektflodet, {"within_roles": ["pmo", "bestallare"]})
    )
    assert limited.delegation.within_roles == ["pmo", "bestallare"]
    assert limited.content_hash() != projektflodet.content_hash()
    assert '"delegation"' in limited.canonical_json()


@pytest.mark.parametrize(
    ("policy", "path", "words"),
    [
        ({"within_roles": ["nobody"]}, "delegation.within_roles[0]", ['unknown role "nobody"']),
        (
            {"allowed": False, "within_roles": ["pmo"]},
            "delegation.within_roles",
            ["not allowed"],
        ),
        ({"allowed": "sometimes"}, "delegation.allowed", []),
        ({"who": ["pmo"]}, "delegation.who", []),
    ],
)
def test_a_bad_policy_names_its_field(
    projektflodet: g.GovernanceModel, policy: Any, path: str, words: list[str]
) -> None:
    with pytest.raises(g.GovernanceError) as info:
        g.parse_model(yaml.safe_dump(with_policy(projektflodet, policy)), "model.yaml")
    issues = [i for i in info.value.issues if i.path == path]
    assert issues, [str(i) for i in info.value.issues]
    assert all(w in issues[0].message for w in words), str(issues[0])
