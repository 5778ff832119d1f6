"""Reading models and charters from YAML, with errors that say where and what."""

from __future__ import annotations

import stat
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from governance._errors import GovernanceError, Issue, issues_from_validation
from governance._model import GovernanceModel
from governance._types import is_model_ref
from governance._yaml import MAX_DOCUMENT_BYTES, read_yaml, read_yaml_list

if TYPE_CHECKING:  # reading a model needs neither the charter nor the messages module
    from governance._charter import Charter
    from governance.messages import WorkItem

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
    from governance._charter import Charter

    if not isinstance(data, dict):
        data = read_yaml(data, source)
    return _validate(Charter, data, source)


def _read(given: str | Path) -> bytes:
    """The bytes of the file ``given`` names; a problem is a ``GovernanceError`` whose source
    is ``given`` as the user wrote it (``./x.yaml`` stays so: ``Path`` would drop the ``./``)."""
    path = Path(given)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # a FIFO would hang, a device never end
            raise GovernanceError([Issue("(file)", "is not a regular file")], str(given))
        with path.open("rb") as fh:
            data = fh.read(MAX_DOCUMENT_BYTES + 1)  # bounded, should it grow meanwhile
        if len(data) > MAX_DOCUMENT_BYTES:
            size = max(info.st_size, len(data))
            raise GovernanceError(
                [Issue("(document)", f"is {size} bytes; the limit is {MAX_DOCUMENT_BYTES}")],
                str(given),
            )
        return data
    except OSError as exc:
        raise GovernanceError([Issue("(file)", exc.strerror or str(exc))], str(given)) from None


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


def builtin_model(ref: str) -> GovernanceModel | None:
    """The built-in model a name (``prince2``) or ref (``prince2@2.0``) names; None when the
    name is no built-in's. A built-in's name with another version is an error: built-in names
    are reserved, so no other model (a file, a published one) can answer to them."""
    name, _, version = ref.partition("@")
    builtin = builtin_models().get(name)
    if builtin is not None and version and version != builtin.version:
        raise GovernanceError(
            [Issue("model", f'built-in "{name}" is version {builtin.version}, not {version}')],
            ref,
        )
    return builtin


def load_model(path_or_name: str | Path) -> GovernanceModel:
    """A built-in model by name (``prince2``, ``prince2@2.0``) or a model file by path.

    A name is never read as a file: ``projektflodet@1.0`` is the built-in even when a file of
    that name is in the working directory (``./projektflodet@1.0`` is the file).
    """
    text = str(path_or_name)
    if isinstance(path_or_name, str) and is_model_ref(text):
        builtin = builtin_model(text)
        if builtin is None:
            raise GovernanceError([Issue("(model)", _no_builtin(text))], text)
        return builtin
    return parse_model(_read(text), text)


def _no_builtin(ref: str) -> str:
    name = ref.partition("@")[0]
    known = ", ".join(sorted(builtin_models()))
    return (
        f'no built-in model "{name}" (built-in: {known}); a model file is named by its path, '
        f"e.g. ./{name}.yaml"
    )


def load_charter(path: str | Path) -> Charter:
    return parse_charter(_read(path), str(path))


@cache
def _work_items() -> TypeAdapter[list[WorkItem]]:
    from governance.messages import WorkItem

    return TypeAdapter(list[WorkItem])


def parse_work_items(text: str | bytes, source: str = "<items>") -> list[WorkItem]:
    """Work items from a YAML list of ``{id, title, owner, estimate}`` (an iteration plan, or
    the items added to one); a problem names the item by its index: ``[2].estimate``."""
    from governance.messages import WorkItem

    data = read_yaml_list(text, source)
    try:
        return _work_items().validate_python(data)
    except ValidationError as exc:
        raise GovernanceError(issues_from_validation(exc, WorkItem), source) from None


def load_work_items(path: str | Path) -> list[WorkItem]:
    return parse_work_items(_read(path), str(path))


def load_project(
    charter_path: str | Path, model: str | Path | None = None
) -> tuple[Charter, GovernanceModel]:
    """A charter and its model, checked against each other. ``model``: a built-in's name or a
    file (see ``load_model``); None means the built-in the charter names. A file is never
    found by the charter's reference alone; the faces also resolve models published in the
    ledger (``phasegate.models``)."""
    from governance._charter import ensure_valid

    charter = load_charter(charter_path)
    if model is not None:
        gm = load_model(model)
    else:
        found = builtin_model(charter.model)
        if found is None:
            raise GovernanceError([Issue("model", _no_builtin(charter.model))], str(charter_path))
        gm = found
    ensure_valid(charter, gm, str(charter_path))
    return charter, gm
