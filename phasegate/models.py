"""Where a governance model comes from, for the faces: the built-ins, the models published in
the ledger's registry, or a file the user names explicitly. Never a file found by name alone:
a copy of a model next to a charter must not stand in for the one the PMO published.

When a name resolves to nothing, the error says where it looked and what model files with a
similar name it found there (another version, another name inside, another folder).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import governance as g

if TYPE_CHECKING:  # the ledger (and SQLAlchemy) only when there is one to read
    from governance.messages import ModelSource
    from ledger import PublishedModel

__all__ = ["Published", "Registry", "Resolved", "charter_and_model", "find", "named"]

MAX_HINTS = 5
"""Model files named in one error at most."""
USE_A_FILE = (
    "a model file is used only when named: publish it (`phasegate model publish FILE`), "
    "or pass it explicitly (`--model FILE`)"
)
USE_A_NAME = (
    "built-in names are reserved: give a changed model a name of its own and publish it "
    "(`phasegate model publish FILE`), or pass the file explicitly (`--model FILE`)"
)


@dataclass(frozen=True)
class Resolved:
    model: g.GovernanceModel
    kind: Literal["builtin", "registry", "file"]
    file: str | None = None
    """The file's absolute path (kind file)."""

    @property
    def source(self) -> ModelSource:
        """Where the model came from, as a project's start records it. Made when asked for:
        the messages module (~100 models) is not loaded by the commands that only read a
        model (`model list`, `model validate`)."""
        from governance.messages import ModelSource

        return ModelSource(kind=self.kind, file=self.file)


class Published(Protocol):
    """What the registry is read from: a ``Ledger``, or a ``RegistryFile`` (a SQLite
    ledger's registry read without SQLAlchemy)."""

    def published_model(self, name: str, version: str) -> PublishedModel | None: ...
    def published_models(self) -> list[PublishedModel]: ...


@dataclass(frozen=True)
class Registry:
    """The models published in one ledger; ``ledger`` is None when there is no ledger at
    ``where`` (then nothing is published)."""

    ledger: Published | None
    where: str

    def get(self, name: str, version: str) -> PublishedModel | None:
        return None if self.ledger is None else self.ledger.published_model(name, version)

    def versions(self, name: str) -> list[PublishedModel]:
        """The published versions of ``name``, oldest first."""
        if self.ledger is None:
            return []
        return [p for p in self.ledger.published_models() if p.model.name == name]

    def all(self) -> list[PublishedModel]:
        return [] if self.ledger is None else self.ledger.published_models()


def from_file(path: str | Path) -> Resolved:
    """A model file the user named (its problems name it as they wrote it): used as it is,
    and shown as a local file."""
    return Resolved(g.load_model(path), "file", str(Path(path).resolve()))


def named(ref: str, registry: Registry, looked_in: Sequence[Path]) -> Resolved:
    """The model ``ref`` (``name`` or ``name@version``) names: a built-in, else published in
    ``registry`` (without a version: its newest). ``looked_in``: folders whose model files of a
    similar name the error describes when nothing answers to ``ref`` (none: no folder is
    looked in, as for a charter sent to the REST API)."""
    try:
        builtin = g.builtin_model(ref)
    except g.GovernanceError as exc:  # a built-in's name with another version
        raise g.GovernanceError([*exc.issues, *_hints(ref, looked_in)], exc.source) from None
    if builtin is not None:
        return Resolved(builtin, "builtin")
    name, _, version = ref.partition("@")
    versions = registry.versions(name)
    entry = registry.get(name, version) if version else (versions[-1] if versions else None)
    if entry is not None:
        return Resolved(entry.model, "registry")
    builtins = ", ".join(m.ref for m in g.builtin_models().values())
    if registry.ledger is None:
        published = f"no ledger at {registry.where}, so nothing is published"
    elif versions:
        published = f"published there: {', '.join(v.ref for v in versions)}"
    else:
        published = f'nothing named "{name}" is published there'
    issue = g.Issue(
        "model",
        f'"{ref}" is neither a built-in model ({builtins}) nor published in the ledger '
        f"({published})",
    )
    raise g.GovernanceError([issue, *_hints(ref, looked_in)], ref)


def find(path_or_name: str, registry: Registry) -> Resolved:
    """A model by name (built-in or published) or by file path, as a command-line argument
    gives it (``prince2``, ``acme@2.0``, ``./acme.yaml``)."""
    if g.is_model_ref(path_or_name):
        return named(path_or_name, registry, [Path.cwd()])
    return from_file(path_or_name)


def charter_and_model(
    charter_path: Path, model: str | None, registry: Registry
) -> tuple[g.Charter, Resolved]:
    """A charter and its model, checked against each other. ``model`` (``--model``) is a name
    or a file; without it, the model the charter names, from the built-ins or the registry."""
    charter = g.load_charter(charter_path)
    if model is None:
        folders = [charter_path.resolve().parent, Path.cwd()]
        resolved = named(charter.model, registry, folders)
    else:
        resolved = find(model, registry)
    g.ensure_valid(charter, resolved.model, str(charter_path))
    return charter, resolved


# -- what was found instead ---------------------------------------------------------------------


def _hints(ref: str, folders: Sequence[Path]) -> list[g.Issue]:
    if not folders:
        return []
    name, _, version = ref.partition("@")
    dirs = list(dict.fromkeys(f.resolve() for f in folders))
    found = [
        g.Issue("model", f"found {path}: {what}") for path, what in _found(name, version, dirs)
    ]
    where = ", ".join(f"{d} (and its subfolders)" for d in dirs)
    looked = g.Issue("model", f"looked for model files named {name}*.yaml or *.yml in {where}")
    advice = USE_A_NAME if name in g.builtin_models() else USE_A_FILE
    return [*found, looked, g.Issue("model", advice)]


def _found(name: str, version: str, dirs: Sequence[Path]) -> Iterator[tuple[Path, str]]:
    """Model files whose name starts with ``name`` (.yaml/.yml) in ``dirs`` and one level
    below, each with what it holds; at most MAX_HINTS. Files that are no model (a charter,
    say) are passed over."""
    seen: set[Path] = set()
    for folder in dirs:
        for pattern in (f"{name}*.y*ml", f"*/{name}*.y*ml"):
            try:
                paths = sorted(folder.glob(pattern))
            except OSError:
                continue
            for path in paths:
                if path in seen or path.suffix not in (".yaml", ".yml") or not path.is_file():
                    continue
                what = _holds(path, name, version)
                if what is not None:
                    seen.add(path)
                    yield path, what
                    if len(seen) == MAX_HINTS:
                        return


def _holds(path: Path, name: str, version: str) -> str | None:
    """What the model file at ``path`` holds, said against name@version; None if no model."""
    try:
        if path.stat().st_size > g.MAX_DOCUMENT_BYTES:
            return None
        data = g.read_yaml(path.read_bytes(), str(path))
    except (OSError, g.GovernanceError):
        return None
    if "phases" not in data or "people" in data:
        return None
    try:
        model = g.parse_model(data, str(path))
    except g.GovernanceError as exc:
        return f"not a valid model ({exc.issues[0]})"
    if model.name != name:
        return f'it holds "{model.ref}" (another name inside)'
    if version and model.version != version:
        return f'it holds "{model.ref}" (version {model.version}, not {version})'
    return f'it holds "{model.ref}", but a file is not used unless named'
