"""PRINCE2's board changed in issue #12 (the Executive decides; Senior User and Senior Supplier
only advise): other content under a name@version is never the same model, so the built-in is
prince2@2.0, and a charter that names the old version is refused, not silently moved."""

from __future__ import annotations

import pytest

import governance as g

BEFORE_12 = "e21be36cc30f"
"""The first 12 hex digits of prince2@1.0's content hash (commit ac50529): approvers
[executive, senior_user, senior_supplier], majority / at_least 2 / all."""


def test_the_builtin_prince2_with_other_content_has_another_version() -> None:
    """The registry refuses other content under a published name@version ("a published version
    never changes: give the new one another version"); the built-ins keep the same rule."""
    prince2 = g.builtin_models()["prince2"]
    assert prince2.ref == "prince2@2.0"
    assert prince2.content_hash()[:12] != BEFORE_12
    assert prince2.phases[0].gate.approvers == ["executive"]


def test_a_charter_naming_the_old_version_is_refused_with_the_version_built_in() -> None:
    with pytest.raises(g.GovernanceError) as info:
        g.builtin_model("prince2@1.0")
    assert 'built-in "prince2" is version 2.0, not 1.0' in str(info.value)
