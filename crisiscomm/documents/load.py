"""Safe YAML loading for playbooks, protocols and drills.

PyYAML's defaults are wrong for a configuration language (DESIGN.md, "Known pitfalls"):

- YAML 1.1 typing turns `on`/`no`/`yes` into booleans (even keys), `22:00` into 1320 and
  timestamps into datetimes. We resolve plain scalars by the YAML 1.2 core schema instead.
- Duplicate keys silently keep the last value. We raise, naming both locations.
- Aliases are shared references: a 300-byte "billion laughs" document expands
  exponentially and `&a [*a]` is recursive. We cap alias expansion and refuse recursion.
- The pure-Python parser is ~8x slower than libyaml, so we compose with libyaml's CParser
  when PyYAML has it and build the values ourselves, keeping every node's line and column.

Only the core types are built (mapping, sequence, string, integer, float, boolean, null);
any other tag (`!!python/object`, `!!binary`, custom tags) is refused. Nothing is executed.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from crisiscomm.documents.source import Location, MarkedDict, MarkedList
from crisiscomm.documents.yamllib import yaml
from crisiscomm.errors import LoadError
from crisiscomm.i18n import _

__all__ = ["MAX_ALIAS_NODES", "MAX_DEPTH", "MAX_FILE_BYTES", "load_file", "load_text"]

MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 64
# Nodes built through aliases, in all. A real playbook reuses a few escalation ladders;
# a "billion laughs" document needs billions.
MAX_ALIAS_NODES = 10_000

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"
SEQ = "tag:yaml.org,2002:seq"
MAP = "tag:yaml.org,2002:map"


class CoreResolver(yaml.resolver.BaseResolver):
    """Resolves plain scalars by the YAML 1.2 core schema (no yes/no/on/off, no sexagesimal)."""


# BaseResolver keeps its table in a class attribute; give ours its own copy.
CoreResolver.yaml_implicit_resolvers = {}
CORE_PATTERNS: dict[str, re.Pattern[str]] = {}
for _tag, _pattern, _first in [
    (BOOL, r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (INT, r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        FLOAT,
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
    (NULL, r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
]:
    CORE_PATTERNS[_tag] = re.compile(_pattern)
    CoreResolver.add_implicit_resolver(_tag, CORE_PATTERNS[_tag], list(_first))


# The loaders' constructors are never used: we build values from the composed nodes.
if yaml.__with_libyaml__:

    class _Composer(yaml.cyaml.CBaseLoader, CoreResolver):
        """libyaml's parser with the core-schema resolver."""

else:  # pragma: no cover - PyYAML's wheels ship libyaml

    class _Composer(yaml.BaseLoader, CoreResolver):  # type: ignore[no-redef]
        """The pure-Python parser with the core-schema resolver."""


def _mark(file: str, node: yaml.Node, text: str | None = None) -> Location:
    return Location(file, node.start_mark.line + 1, node.start_mark.column + 1, text)


class _Builder:
    """Builds marked Python values from a composed node tree, within the caps."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.active: set[int] = set()
        self.seen: set[int] = set()
        self.alias_depth = 0
        self.alias_nodes = 0

    def build(self, node: yaml.Node, depth: int = 0) -> tuple[Any, Location]:
        location = _mark(self.file, node)
        if depth > MAX_DEPTH:
            raise LoadError(
                _("nesting is deeper than {limit} levels").format(limit=MAX_DEPTH),
                location=location,
                rule="yaml-limits",
                hint=_("flatten the structure; playbooks never need this depth"),
            )
        node_id = id(node)
        if node_id in self.active:
            raise LoadError(
                _("the anchor at this line refers to itself (a recursive alias)"),
                location=location,
                rule="yaml-alias",
                hint=_("remove the alias that points back into its own anchor"),
            )
        is_alias = node_id in self.seen
        self.seen.add(node_id)
        if is_alias:
            self.alias_depth += 1
        if self.alias_depth:
            self.alias_nodes += 1
            if self.alias_nodes > MAX_ALIAS_NODES:
                raise LoadError(
                    _("aliases expand to more than {limit} values (an alias bomb?)").format(
                        limit=MAX_ALIAS_NODES
                    ),
                    location=location,
                    rule="yaml-alias",
                    hint=_("write the repeated parts out, or reuse them with `extends`"),
                )
        self.active.add(node_id)
        try:
            return self._build_node(node, depth, location)
        finally:
            self.active.discard(node_id)
            if is_alias:
                self.alias_depth -= 1

    def _build_node(self, node: yaml.Node, depth: int, location: Location) -> tuple[Any, Location]:
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, location)
        if isinstance(node, yaml.SequenceNode):
            self._check_tag(node, SEQ, location)
            items = MarkedList(location)
            for child in node.value:
                items.append_marked(*self.build(child, depth + 1))
            return items, location
        if isinstance(node, yaml.MappingNode):
            self._check_tag(node, MAP, location)
            return self._mapping(node, depth, location), location
        raise LoadError(_("unsupported YAML node"), location=location)  # pragma: no cover

    def _mapping(self, node: yaml.MappingNode, depth: int, location: Location) -> MarkedDict:
        mapping = MarkedDict(location)
        for key_node, value_node in node.value:
            key_location = _mark(self.file, key_node)
            if not isinstance(key_node, yaml.ScalarNode):
                raise LoadError(
                    _("a key must be a plain word, not a list or a mapping"),
                    location=key_location,
                )
            if key_node.tag == "tag:yaml.org,2002:merge" or (
                key_node.value == "<<" and not key_node.style
            ):
                raise LoadError(
                    _("YAML merge keys (<<) are not supported in crisiscomm files"),
                    location=key_location,
                    rule="yaml-alias",
                    hint=_("write the keys out, or share them through `extends`"),
                )
            key, _key_location = self._scalar(key_node, key_location)
            if not isinstance(key, str):
                # Keys are names: `1:` or `true:` mean the words, as YAML 1.2 core would
                # otherwise make them numbers or booleans that JSON Schema cannot check.
                key = key_node.value
            if key in mapping:
                first = mapping.key_locations[key]
                raise LoadError(
                    _("duplicate key `{key}`: first defined at line {line}").format(
                        key=key, line=first.line
                    ),
                    location=key_location,
                    rule="duplicate-key",
                    hint=_("keep one of the two (YAML would silently keep the last)"),
                )
            value, value_location = self.build(value_node, depth + 1)
            mapping.put(key, value, key_location=key_location, value_location=value_location)
        return mapping

    def _check_tag(self, node: yaml.Node, expected: str, location: Location) -> None:
        if node.tag not in (expected, "!"):
            raise LoadError(
                _("unsupported YAML tag `{tag}`").format(tag=node.tag),
                location=location,
                rule="yaml-tag",
                hint=_("remove the tag; crisiscomm files use plain YAML values only"),
            )

    def _scalar(self, node: yaml.ScalarNode, location: Location) -> tuple[Any, Location]:
        tag, text = node.tag, node.value
        if tag in CORE_PATTERNS and not CORE_PATTERNS[tag].match(text):
            # an explicit `!!int abc`: the resolver only checks plain scalars
            raise LoadError(
                _("`{text}` is not a valid {tag} value").format(
                    text=text, tag=tag.rsplit(":", 1)[-1]
                ),
                location=location,
                rule="yaml-tag",
                hint=_("remove the tag; crisiscomm files use plain YAML values only"),
            )
        if tag in (STR, "!"):
            return text, location
        if tag == NULL:
            return None, location
        if tag == BOOL:
            return text.lower() == "true", location
        if tag == INT:
            number_location = Location(location.file, location.line, location.column, text)
            return _parse_int(text), number_location
        if tag == FLOAT:
            number_location = Location(location.file, location.line, location.column, text)
            return _parse_float(text), number_location
        raise LoadError(
            _("unsupported YAML tag `{tag}`").format(tag=tag),
            location=location,
            rule="yaml-tag",
            hint=_("remove the tag; crisiscomm files use plain YAML values only"),
        )


def _parse_int(text: str) -> int:
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text)


def _parse_float(text: str) -> float:
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return -math.inf if lowered.startswith("-") else math.inf
    if lowered == ".nan":
        return math.nan
    return float(text)


def _syntax_error(error: yaml.MarkedYAMLError, text: str, file: str) -> LoadError:
    """A syntax error at the line a person should look at.

    "found unexpected end of stream" is reported past the last line; the context (e.g.
    "while scanning a quoted scalar") points at where the unclosed thing started.
    """
    mark = error.problem_mark or error.context_mark
    last_line = text.count("\n")
    if error.context_mark is not None and (mark is None or mark.line >= last_line):
        mark = error.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = error.problem or str(error)
    if error.context:
        problem = f"{problem} ({error.context})"
    return LoadError(
        _("YAML syntax error: {problem}").format(problem=problem),
        location=Location(file, line, column),
        hint=_("check the indentation and quoting on this line or the one above"),
    )


def load_text(text: str, file: str) -> Any:
    """Parse one YAML document into marked values; `file` names it in messages."""
    composer = _Composer(text)
    try:
        node = composer.get_single_node()
    except yaml.MarkedYAMLError as error:
        raise _syntax_error(error, text, file) from None
    except yaml.YAMLError as error:
        raise LoadError(
            _("YAML syntax error: {problem}").format(problem=error),
            location=Location(file, 1, 1),
        ) from None
    finally:
        composer.dispose()
    if node is None:
        raise LoadError(
            _("the file is empty"),
            location=Location(file, 1, 1),
            rule="yaml-syntax",
            hint=_("start it with `crisiscomm: 1` and an `id`"),
        )
    value, _location = _Builder(file).build(node)
    return value


def load_file(path: Path, *, display_name: str | None = None) -> Any:
    """Read and parse one YAML file, refusing files over 1 MiB or not in UTF-8."""
    name = display_name or str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise LoadError(
                _("the file is {size} bytes; the limit is 1 MiB").format(size=size),
                location=Location(name, 1, 1),
                rule="yaml-limits",
                hint=_("split it into a protocol and playbooks that extend it"),
            )
        raw = path.read_bytes()
    except OSError as error:
        raise LoadError(
            _("cannot read the file: {reason}").format(reason=error.strerror or error),
            location=Location(name, 1, 1),
            rule="io",
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise LoadError(
            _("the file is not valid UTF-8"),
            location=Location(name, line, 1),
            rule="yaml-syntax",
            hint=_("save it as UTF-8 (statements in Karakalpak, Uzbek and Russian need it)"),
        ) from None
    return load_text(text, name)
