"""The playbook JSON Schema (Draft 2020-12) and its errors as findings.

The validator is built once per process: `jsonschema.validate()` re-checks the schema
itself on every call (~40 ms), which would dominate validating a tree of playbooks.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crisiscomm.i18n import _
from crisiscomm.playbook.findings import Finding
from crisiscomm.playbook.source import Location, location_of

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

__all__ = ["SCHEMA_PATH", "containers", "schema_findings", "schema_text", "validator"]

SCHEMA_PATH = Path(__file__).with_name("schema.json")


def schema_text() -> str:
    """The schema exactly as shipped."""
    return SCHEMA_PATH.read_text(encoding="utf-8")


# Containers (by id) already validated, clean, at the same place of a base document: the
# merged playbook shares its protocol's untouched subtrees, so they are not checked again.
_ALREADY_VALID: ContextVar[frozenset[int]] = ContextVar("already_valid", default=frozenset())


def _skipping(keyword: Callable[..., Any]) -> Callable[..., Any]:
    def check(validator: Any, value: Any, instance: Any, schema: Any) -> Any:
        if id(instance) in _ALREADY_VALID.get():
            return ()
        return keyword(validator, value, instance, schema)

    return check


@functools.cache
def validator() -> Draft202012Validator:
    """The one validator of this process (Draft 2020-12, able to skip validated subtrees)."""
    from jsonschema import Draft202012Validator
    from jsonschema.validators import extend

    schema = json.loads(schema_text())
    Draft202012Validator.check_schema(schema)
    keywords = {name: _skipping(check) for name, check in Draft202012Validator.VALIDATORS.items()}
    return extend(Draft202012Validator, keywords)(_inline_refs(schema, schema["$defs"]))


def _inline_refs(node: Any, definitions: dict[str, Any]) -> Any:
    """The schema with every local `$ref` replaced by its definition (ours are not recursive).

    Resolving references is a third of jsonschema's time on a playbook tree; inlined, the
    validator walks plain dicts. The definition's own title wins over the referring one
    (titles are annotations only; messages look for the "Duration" title).
    """
    if isinstance(node, list):
        return [_inline_refs(item, definitions) for item in node]
    if not isinstance(node, dict):
        return node
    inlined = {key: _inline_refs(value, definitions) for key, value in node.items()}
    reference = inlined.pop("$ref", None)
    if isinstance(reference, str) and reference.startswith("#/$defs/"):
        target = _inline_refs(definitions[reference.removeprefix("#/$defs/")], definitions)
        return {**inlined, **target}
    if reference is not None:
        inlined["$ref"] = reference
    return inlined


def containers(document: Any) -> frozenset[int]:
    """The ids of every mapping and list in a document (for `already_valid`)."""
    found: set[int] = set()
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found.add(id(node))
            stack.extend(node.values())
        elif isinstance(node, list):
            found.add(id(node))
            stack.extend(node)
    return frozenset(found)


def _describe(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, dict):
        return _("a mapping")
    if isinstance(value, list):
        return _("a list")
    return repr(value) if isinstance(value, str) else str(value)


_TYPE_NAMES = {
    "string": _("text"),
    "object": _("a mapping"),
    "array": _("a list"),
    "integer": _("a whole number"),
    "number": _("a number"),
    "boolean": _("true or false"),
}


def _field_name(error: ValidationError) -> str:
    steps = [str(step) for step in error.absolute_path]
    return ".".join(steps) if steps else _("the document")


def _message(error: ValidationError, root: Any) -> tuple[str, str | None, Location | None]:
    """A readable message, a hint and a better location for one schema error."""
    path = list(error.absolute_path)
    field = _field_name(error)
    validator_name = error.validator
    instance: Any = error.instance
    expected: Any = error.validator_value
    hint: str | None = None
    if validator_name == "additionalProperties":
        owner: Any = error.schema
        allowed = sorted(owner.get("properties", {}) if isinstance(owner, dict) else {})
        extras = [key for key in instance if key not in allowed]
        extra = extras[0] if extras else "?"
        close = difflib.get_close_matches(extra, allowed, n=1)
        hint = (
            _("did you mean `{name}`?").format(name=close[0])
            if close
            else _("allowed here: {names}").format(names=", ".join(allowed))
        )
        where = location_of(root, [*path, extra], key=True)
        return _("unknown key `{key}` in {field}").format(key=extra, field=field), hint, where
    if validator_name == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return (
            _("{field} is missing the required key `{key}`").format(field=field, key=missing),
            None,
            None,
        )
    if validator_name == "type":
        names: list[str] = expected if isinstance(expected, list) else [expected]
        wanted = _(" or ").join(_TYPE_NAMES.get(name) or name for name in names)
        where = location_of(root, path)
        written = where.text if where else None
        if _is_duration(error) and isinstance(instance, int | float):
            hint = _("add a unit: {n}m for minutes, {n}h for hours, {n}s for seconds").format(
                n=written or instance
            )
        elif "string" in names and isinstance(instance, int | float) and written:
            hint = _('YAML read `{text}` as a number; write it in quotes: "{text}"').format(
                text=written
            )
        elif "string" in names and isinstance(instance, bool):
            hint = _("YAML read this as true/false; write it in quotes")
        elif "boolean" in names and str(instance).lower() in YAML_1_1_BOOLEANS:
            hint = _("write true or false (in YAML 1.2 `{word}` is text)").format(word=instance)
        return (
            _("{field} must be {wanted}, not {value}").format(
                field=field, wanted=wanted, value=_describe(error.instance)
            ),
            hint,
            None,
        )
    if validator_name == "enum":
        choices = ", ".join(str(choice) for choice in expected)
        close = difflib.get_close_matches(str(error.instance), [str(c) for c in expected], n=1)
        hint = _("did you mean `{name}`?").format(name=close[0]) if close else None
        return (
            _("{field} is {value}; allowed: {choices}").format(
                field=field, value=_describe(error.instance), choices=choices
            ),
            hint,
            None,
        )
    if validator_name == "const":
        return (
            _("{field} must be {value}").format(field=field, value=expected),
            _("this version of crisiscomm reads format version 1"),
            None,
        )
    if validator_name == "pattern" or (
        validator_name == "propertyNames" or "propertyNames" in error.relative_schema_path
    ):
        return (
            _("{field}: {value} is not a valid name").format(
                field=field, value=_describe(error.instance)
            ),
            _("use lower-case letters, digits, `_` and `-`, starting with a letter"),
            None,
        )
    return _("{field}: {problem}").format(field=field, problem=error.message), None, None


YAML_1_1_BOOLEANS = {"yes", "no", "on", "off", "y", "n"}


def _is_duration(error: ValidationError) -> bool:
    schema: Any = error.schema
    return isinstance(schema, dict) and schema.get("title") == "Duration"


def _leaf_errors(error: ValidationError) -> Iterator[ValidationError]:
    """For anyOf/oneOf errors, the most relevant alternative's error.

    An alternative whose type matched the value (a mapping given where a mapping or a
    duration is allowed) explains the problem better than "must be text".
    """
    if not error.context:
        yield error
        return
    from jsonschema.exceptions import best_match

    same_type = [e for e in error.context if e.validator != "type"]
    yield from _leaf_errors(best_match(same_type or error.context))


def schema_findings(document: Any, *, already_valid: frozenset[int] = frozenset()) -> list[Finding]:
    """Every place `document` breaks the schema, as findings.

    `already_valid` holds the ids of containers that were validated clean at the same place
    of a base document (see `containers`); they are skipped.
    """
    findings = []
    token = _ALREADY_VALID.set(already_valid)
    try:
        errors = list(validator().iter_errors(document))
    finally:
        _ALREADY_VALID.reset(token)
    for error in errors:
        for leaf in _leaf_errors(error):
            message, hint, where = _message(leaf, document)
            location = (
                where or location_of(document, list(leaf.absolute_path)) or Location("?", 1, 1)
            )
            findings.append(Finding(location, "schema", message, hint=hint))
    return findings
