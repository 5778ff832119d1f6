"""Reading one YAML document: the YAML 1.2 core schema, bounded, one clear message per problem.

PyYAML speaks YAML 1.1, where ``off`` is false, ``010`` is 8, ``1:30`` is 90 and a date is a
date. Here a document is composed by PyYAML's parser (libyaml when present: fast, and it
refuses nesting past 1000 levels) with the core schema's resolvers, and turned into Python
values by :class:`_Builder`, which owns every conversion: nothing a document holds can raise
anything but a :class:`GovernanceError` naming its line and column.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from governance._errors import GovernanceError, Issue

MAX_DOCUMENT_BYTES = 1_000_000
MAX_VALUES = 20_000
"""Values (scalars, lists, mappings) a document may hold, an alias counted at every use: a
real model or charter holds a few thousand; an alias bomb holds billions."""
MAX_DEPTH = 32
"""Nesting levels; the deepest real document (a gate's task) sits at five."""

_TAG = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = (_TAG + t for t in ("str", "int", "float", "bool", "null"))
SEQ, MAP, MERGE = (_TAG + t for t in ("seq", "map", "merge"))

_INT_10 = re.compile(r"^[-+]?[0-9]+$")
_INT_8 = re.compile(r"^0o[0-7]+$")
_INT_16 = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")


class _Refused(yaml.YAMLError):
    def __init__(self, where: str, message: str) -> None:
        super().__init__(message)
        self.where = where
        self.message = message


class _CoreResolver(yaml.resolver.BaseResolver):
    """The YAML 1.2 core schema's implicit types, plus the merge key ``<<``; every other
    plain scalar (``yes``, ``off``, ``1_000``, ``1:30``, ``2027-01-11``) is text."""

    yaml_implicit_resolvers: dict[Any, Any] = {}  # noqa: RUF012 (PyYAML's class registry)

    def __init__(self) -> None:
        super().__init__()
        self.values = 0

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        # Called once per node the parser composes: stop a huge document early.
        self.values += 1
        if self.values > MAX_VALUES:
            raise _Refused("(document)", f"holds more than {MAX_VALUES} values (the limit)")
        return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]


for _tag, _regexp, _first in (
    (NULL, _NULL, "~nN"),
    (BOOL, _BOOL, "tTfF"),
    (INT, re.compile(f"{_INT_10.pattern}|{_INT_8.pattern}|{_INT_16.pattern}"), "-+0123456789"),
    (FLOAT, re.compile(f"{_FLOAT.pattern}|{_INF.pattern}|{_NAN.pattern}"), "-+.0123456789"),
    (MERGE, re.compile(r"^<<$"), "<"),
):
    _CoreResolver.add_implicit_resolver(_tag, _regexp, [*_first, *([""] if _tag == NULL else [])])


if yaml.__with_libyaml__:
    from yaml._yaml import CParser

    class _Composer(CParser, _CoreResolver):
        def __init__(self, text: str | bytes) -> None:
            CParser.__init__(self, text)
            _CoreResolver.__init__(self)

else:  # pragma: no cover - PyYAML wheels ship libyaml; the pure parser is the fallback

    class _Composer(  # type: ignore[no-redef]
        yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer,
        _CoreResolver,
    ):  # fmt: skip
        def __init__(self, text: str | bytes) -> None:
            yaml.reader.Reader.__init__(self, text)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            _CoreResolver.__init__(self)


def _where(node: Node) -> str:
    mark = node.start_mark
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(document)"


def _short(tag: str) -> str:
    return "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag


class _Builder:
    """Python values from composed nodes, each node built once (an alias shares the value)
    and sized as if every alias were written out, so an alias bomb is refused cheaply."""

    def __init__(self) -> None:
        self._built: dict[int, tuple[Any, int]] = {}
        self._open: set[int] = set()

    def build(self, node: Node, depth: int = 1) -> tuple[Any, int]:
        """The node's value and how many values it expands to."""
        key = id(node)
        if key in self._built:
            return self._built[key]
        if key in self._open:
            raise _Refused(_where(node), "an alias refers to the value it is part of")
        if depth > MAX_DEPTH:
            raise _Refused(_where(node), f"nests deeper than {MAX_DEPTH} levels (the limit)")
        self._open.add(key)
        done: tuple[Any, int]
        if isinstance(node, MappingNode) and node.tag == MAP:
            done = self._mapping(node, depth)
        elif isinstance(node, SequenceNode) and node.tag == SEQ:
            items = [self.build(item, depth + 1) for item in node.value]
            done = [value for value, _ in items], 1 + sum(size for _, size in items)
        elif isinstance(node, ScalarNode):
            done = _scalar(node), 1
        else:
            raise _Refused(_where(node), _unsupported(node.tag))
        self._open.discard(key)
        if done[1] > MAX_VALUES:
            raise _Refused(
                "(document)",
                f"expands through aliases to more than {MAX_VALUES} values (the limit)",
            )
        self._built[key] = done
        return done

    def _mapping(self, node: MappingNode, depth: int) -> tuple[dict[str, Any], int]:
        explicit: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        size = 1
        merges = 0
        for key_node, value_node in node.value:
            if key_node.tag == MERGE:
                # A merge key brings in keys the mapping does not set itself; of several
                # merged mappings the first one listed wins (YAML's merge-key rule).
                merges += 1
                if merges > 1:
                    raise _Refused(_where(key_node), 'not valid YAML: duplicate key "<<"')
                for source in self._merge_sources(value_node):
                    value, n = self.build(source, depth + 1)
                    size += n
                    for k, v in value.items():
                        merged.setdefault(k, v)
                continue
            key = _key(key_node)
            if key in explicit:
                raise _Refused(_where(key_node), f'not valid YAML: duplicate key "{key}"')
            value, n = self.build(value_node, depth + 1)
            explicit[key] = value
            size += 1 + n
        return {**merged, **explicit}, size

    @staticmethod
    def _merge_sources(node: Node) -> list[Node]:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        for source in sources:
            if not (isinstance(source, MappingNode) and source.tag == MAP):
                raise _Refused(_where(source), "a merge key (<<) takes a mapping or a list of them")
        return list(sources)


def _unsupported(tag: str) -> str:
    return (
        f"the tag {_short(tag)} is not supported here; "
        "write the value plainly (in quotes if it is text)"
    )


def _key(node: Node) -> str:
    if not isinstance(node, ScalarNode):
        kind = "a list" if isinstance(node, SequenceNode) else "a mapping"
        raise _Refused(_where(node), f"a key must be text, not {kind}")
    key = _scalar(node)
    if not isinstance(key, str):
        raise _Refused(
            _where(node),
            f"a key must be text; YAML reads {node.value or 'an empty key'} as "
            f"{_kind(key)}: quote it",
        )
    return key


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return "a boolean" if isinstance(value, bool) else "a number"


def _scalar(node: ScalarNode) -> Any:
    text, tag = node.value, node.tag
    if tag == STR:
        return text
    if tag == NULL and _NULL.match(text):
        return None
    if tag == BOOL and _BOOL.match(text):
        return text.lower() == "true"
    if tag == INT:
        return _int(node)
    if tag == FLOAT:
        if _INF.match(text):
            return -math.inf if text.startswith("-") else math.inf
        if _NAN.match(text):
            return math.nan
        if _FLOAT.match(text):
            return float(text)
    if tag in (NULL, BOOL, FLOAT):
        raise _Refused(_where(node), f'"{text}" is not a valid {_short(tag)}')
    raise _Refused(_where(node), _unsupported(tag))


def _int(node: ScalarNode) -> int:
    text = node.value
    try:
        if _INT_8.match(text):
            return int(text[2:], 8)
        if _INT_16.match(text):
            return int(text[2:], 16)
        if _INT_10.match(text):
            digits = text.lstrip("+-")
            if len(digits) > 1 and digits.startswith("0"):
                # YAML 1.1 reads 010 as 8, YAML 1.2 as 10: neither may be what was meant.
                raise _Refused(
                    _where(node),
                    f"{text} is ambiguous (a leading zero): quote it if it is text, "
                    f"else write {int(text)}",
                )
            return int(text)
    except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
        raise _Refused(_where(node), "is a number with too many digits") from None
    raise _Refused(_where(node), f'"{text}" is not a valid !!int')


def _read_document(text: str | bytes, source: str) -> Any:
    """The one YAML document in ``text``, as plain Python values (None when it is empty)."""
    size = len(text.encode() if isinstance(text, str) else text)
    if size > MAX_DOCUMENT_BYTES:
        raise GovernanceError(
            [Issue("(document)", f"is {size} bytes; the limit is {MAX_DOCUMENT_BYTES}")],
            source,
        )
    try:
        composer = _Composer(text)
        node = composer.get_single_node()
        return _Builder().build(node)[0] if node is not None else None
    except _Refused as exc:
        raise GovernanceError([Issue(exc.where, exc.message)], source) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(document)"
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())  # one line
        raise GovernanceError([Issue(where, f"not valid YAML: {problem}")], source) from None
    except RecursionError:  # the pure-Python parser on deep nesting (libyaml stops at 1000)
        issue = Issue("(document)", f"nests deeper than {MAX_DEPTH} levels (the limit)")
        raise GovernanceError([issue], source) from None


def read_yaml(text: str | bytes, source: str = "<text>") -> dict[str, Any]:
    """Parse one YAML document that must be a mapping."""
    data = _read_document(text, source)
    if not isinstance(data, dict):
        raise GovernanceError(
            [Issue("(document)", "must be a YAML mapping (key: value lines)")], source
        )
    return data


def read_yaml_list(text: str | bytes, source: str = "<text>") -> list[Any]:
    """Parse one YAML document that must be a list (``- ...`` lines)."""
    data = _read_document(text, source)
    if not isinstance(data, list):
        raise GovernanceError([Issue("(document)", "must be a YAML list (- ... lines)")], source)
    return data
