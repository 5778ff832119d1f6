"""Reading models and charters from YAML, with errors that say where and what."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from governance._charter import Charter, check_charter, split_ref
from governance._errors import GovernanceError, Issue, issues_from_validation
from governance._model import GovernanceModel
from governance._yaml import MAX_DOCUMENT_BYTES, read_yaml

T = TypeVar("T", bound=BaseModel)


def _validate(cls: type[T], data: Any, source: str) -> T:
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise GovernanceError(issues_from_validation(exc, cls), source) from None
    except GovernanceError as exc:
        raise GovernanceError(exc.issues, source) from None


def parse_model(data: dict[str, Any] | str | bytes, source: str = "<model>") -> GovernanceModel:
    if not isinstance(data, dict):
        data = read_yaml(data, source)
    return _validate(GovernanceModel, data, source)


def parse_charter(data: dict[str, Any] | str | bytes, source: str = "<charter>") -> Charter:
    if not isinstance(data, dict):
        data = read_yaml(data, source)
    return _validate(Charter, data, source)


def _read(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise GovernanceError(
                [Issue("(document)", f"is {size} bytes; the limit is {MAX_DOCUMENT_BYTES}")],
                str(path),
            )
        return path.read_bytes()
    except OSError as exc:
        raise GovernanceError([Issue("(file)", exc.strerror or str(exc))], str(path)) from None


@cache
def builtin_models() -> dict[str, GovernanceModel]:
    """The models shipped with phasegate, by name."""
    out: dict[str, GovernanceModel] = {}
    folder = resources.files("governance") / "builtin"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            model = parse_model(entry.read_bytes(), f"builtin/{entry.name}")
            out[model.name] = model
    return out


def load_model(path_or_name: str | Path) -> GovernanceModel:
    """A built-in model by name (``prince2``, ``prince2@1.0``) or a model file by path."""
    text = str(path_or_name)
    name, _, version = text.partition("@")
    builtin = builtin_models().get(name)
    if builtin is not None and not Path(text).exists():
        if version and version != builtin.version:
            raise GovernanceError(
                [Issue("model", f'built-in "{name}" is version {builtin.version}, not {version}')],
                text,
            )
        return builtin
    path = Path(text)
    if not path.exists() and "/" not in text and not text.endswith((".yaml", ".yml")):
        known = ", ".join(sorted(builtin_models()))
        raise GovernanceError(
            [Issue("(model)", f'no built-in model "{name}" and no such file; built-in: {known}')],
            text,
        )
    return parse_model(_read(path), str(path))


def load_charter(path: str | Path) -> Charter:
    return parse_charter(_read(Path(path)), str(path))


def resolve_model(ref: str, search: list[Path] | None = None) -> GovernanceModel:
    """The model a charter names (``name@version``): a built-in, or a file in ``search``."""
    name, version = split_ref(ref)
    for folder in search or []:
        for candidate in (folder / f"{name}.yaml", folder / f"{name}.yml"):
            if candidate.exists():
                model = load_model(candidate)
                if model.ref == ref:
                    return model
    return load_model(f"{name}@{version}")


def load_project(
    charter_path: str | Path, model: str | Path | None = None
) -> tuple[Charter, GovernanceModel]:
    """A charter and its model, checked against each other."""
    charter = load_charter(charter_path)
    gm = (
        load_model(model)
        if model is not None
        else resolve_model(charter.model, [Path(charter_path).parent])
    )
    issues = check_charter(charter, gm)
    if issues:
        raise GovernanceError(issues, str(charter_path))
    return charter, gm
