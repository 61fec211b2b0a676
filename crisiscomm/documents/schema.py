"""JSON Schema errors as findings a playbook author or trainer understands.

Shared by every document kind with a schema: `inline_refs` prepares a schema for a
fast validator, `leaf_errors` picks the telling alternative of an anyOf/oneOf error and
`error_message` words it ("unknown key `x` in states.verify; did you mean `y`?").
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crisiscomm.documents.findings import Finding
from crisiscomm.documents.quick import compile_check
from crisiscomm.documents.source import Location, location_of
from crisiscomm.i18n import _

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

__all__ = [
    "SchemaValidator",
    "error_message",
    "findings_of",
    "inline_refs",
    "leaf_errors",
    "validator_for",
]


def inline_refs(node: Any, definitions: dict[str, Any]) -> Any:
    """The schema with every local `$ref` replaced by its definition (ours are not recursive).

    Resolving references is a third of jsonschema's time on a playbook tree; inlined, the
    validator walks plain dicts. The definition's own title wins over the referring one
    (titles are annotations only; messages look for the "Duration" title).
    """
    if isinstance(node, list):
        return [inline_refs(item, definitions) for item in node]
    if not isinstance(node, dict):
        return node
    inlined = {key: inline_refs(value, definitions) for key, value in node.items()}
    reference = inlined.pop("$ref", None)
    if isinstance(reference, str) and reference.startswith("#/$defs/"):
        target = inline_refs(definitions[reference.removeprefix("#/$defs/")], definitions)
        return {**inlined, **target}
    if reference is not None:
        inlined["$ref"] = reference
    return inlined


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


def error_message(error: ValidationError, root: Any) -> tuple[str, str | None, Location | None]:
    """A readable message, a hint and a better location for one schema error."""
    path = list(error.absolute_path)
    field = _field_name(error)
    validator_name = error.validator
    instance: Any = error.instance
    expected: Any = error.validator_value
    hint: str | None = None
    import difflib  # only a broken document gets here

    if validator_name == "additionalProperties":
        owner: Any = error.schema
        allowed = sorted(owner.get("properties", {}) if isinstance(owner, dict) else {})
        patterns = list(owner.get("patternProperties", {})) if isinstance(owner, dict) else []
        extras = [
            key
            for key in instance
            if key not in allowed and not any(re.search(p, key) for p in patterns)
        ]
        extra = extras[0] if extras else "?"
        close = difflib.get_close_matches(extra, allowed, n=1)
        hint = (
            _("did you mean `{name}`?").format(name=close[0])
            if close
            else _("allowed here: {names}").format(names=", ".join(allowed))
        )
        if patterns and not close:  # the names per language (`kaa:`, `ru:`) of a place
            hint = _("allowed here: {names}, or a language code such as kaa or ru").format(
                names=", ".join(allowed)
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
    if validator_name == "dependentRequired" and isinstance(instance, dict):
        pairs = [
            (key, needed)
            for key, needs in expected.items()
            if key in instance
            for needed in needs
            if needed not in instance
        ]
        key, needed = pairs[0] if pairs else ("?", "?")
        return (
            _("{field}: `{key}` needs `{needed}` too").format(field=field, key=key, needed=needed),
            None,
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
        naming = "propertyNames" in error.relative_schema_path and isinstance(instance, str)
        return (
            _("{field}: {value} is not a valid name").format(
                field=field, value=_describe(error.instance)
            ),
            _("use lower-case letters, digits, `_` and `-`, starting with a letter")
            if "-" in str(expected)
            else _("use lower-case letters, digits and `_`, starting with a letter"),
            location_of(root, [*path, instance], key=True) if naming else None,
        )
    return _("{field}: {problem}").format(field=field, problem=error.message), None, None


YAML_1_1_BOOLEANS = {"yes", "no", "on", "off", "y", "n"}


def _is_duration(error: ValidationError) -> bool:
    schema: Any = error.schema
    return isinstance(schema, dict) and schema.get("title") == "Duration"


def leaf_errors(error: ValidationError) -> Iterator[ValidationError]:
    """For anyOf/oneOf errors, the most relevant alternative's error.

    An alternative whose type matched the value (a mapping given where a mapping or a
    duration is allowed) explains the problem better than "must be text".
    """
    if not error.context:
        yield error
        return
    from jsonschema.exceptions import best_match

    same_type = [e for e in error.context if e.validator != "type"]
    yield from leaf_errors(best_match(same_type or error.context))


PACKAGE = Path(__file__).resolve().parents[1]


@functools.cache
def _schema(schema_path: Path) -> dict[str, Any]:
    """A schema file with its local `$ref`s inlined.

    The schemas shipped in the package are checked against the metaschema by the tests
    (tests/test_schema.py), not by every process (~270 ms); any other is checked here.
    """
    schema: dict[str, Any] = json.loads(schema_path.read_text(encoding="utf-8"))
    if not schema_path.resolve().is_relative_to(PACKAGE):
        from jsonschema import Draft202012Validator

        Draft202012Validator.check_schema(schema)
    return inline_refs(schema, schema.get("$defs", {}))


class SchemaValidator:
    """A kind's schema: a quick yes-or-no check first, jsonschema's validator (imported and
    built on first need) for the findings of a document the quick check refuses."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.quick = compile_check(schema)
        self._jsonschema: Draft202012Validator | None = None

    def is_valid(self, document: Any) -> bool:
        """Whether `document` matches the schema."""
        if self.quick is not None:
            return self.quick(document)
        return bool(self.jsonschema().is_valid(document))

    def jsonschema(self) -> Draft202012Validator:
        """jsonschema's validator of this schema, built once."""
        if self._jsonschema is None:
            from jsonschema import Draft202012Validator

            self._jsonschema = Draft202012Validator(self.schema)
        return self._jsonschema

    def iter_errors(self, document: Any) -> Iterator[ValidationError]:
        """Every error of `document`, by jsonschema; nothing when the quick check passes."""
        if self.quick is not None and self.quick(document):
            return iter(())
        return self.jsonschema().iter_errors(document)


@functools.cache
def validator_for(schema_path: Path) -> SchemaValidator:
    """The validator of a kind's schema file, built once per process (`jsonschema.validate`
    would re-check the schema itself on every call)."""
    return SchemaValidator(_schema(schema_path))


def findings_of(validator: SchemaValidator, document: Any, rule: str) -> list[Finding]:
    """Every place `document` breaks the validator's schema, as findings under `rule`."""
    findings = []
    for error in validator.iter_errors(document):
        for leaf in leaf_errors(error):
            message, hint, where = error_message(leaf, document)
            location = where or location_of(document, list(leaf.absolute_path))
            findings.append(Finding(location or Location("?", 1, 1), rule, message, hint=hint))
    return sorted(findings)
