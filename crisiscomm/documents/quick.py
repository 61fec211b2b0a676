"""A quick yes-or-no JSON Schema check, for the keywords our schemas use.

Most files a person validates are clean, and for a clean file jsonschema only costs time:
importing it (~65 ms), then walking the document through its general machinery.
`compile_check` turns a schema (local `$ref`s inlined, see `schema.inline_refs`) into
plain closures that answer only "valid?"; when the answer is no, jsonschema runs after all
and words every finding. A schema using a keyword this module does not know compiles to
None, and the callers use jsonschema alone. tests/test_schema.py keeps both verdicts equal on the
shipped documents and many broken copies of them.

Semantics follow jsonschema's Draft 2020-12 validator without a format checker: `format`
is an annotation, `pattern` is Python's `re.search`, booleans are neither integers nor
equal to 0 and 1, and a float with no fraction is an integer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = ["Check", "compile_check", "equal"]

Check = Callable[[Any], bool]

# keywords that never make a document invalid
ANNOTATIONS = frozenset(
    {
        "$comment",
        "$defs",
        "$id",
        "$schema",
        "default",
        "deprecated",
        "description",
        "examples",
        "format",
        "readOnly",
        "title",
        "writeOnly",
    }
)


class Unsupported(Exception):
    """The schema uses a keyword the quick check does not implement."""


def compile_check(schema: Any) -> Check | None:
    """A function telling whether a document is valid, or None if the schema is beyond it."""
    try:
        return _schema(schema)
    except Unsupported:
        return None


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


TYPES: dict[str, Callable[[Any], bool]] = {
    "array": lambda value: isinstance(value, list),
    "boolean": lambda value: isinstance(value, bool),
    "integer": _is_integer,
    "null": lambda value: value is None,
    "number": _is_number,
    "object": lambda value: isinstance(value, dict),
    "string": lambda value: isinstance(value, str),
}


def equal(one: Any, two: Any) -> bool:
    """JSON equality: `true` is not 1, lists and mappings compared item by item."""
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(map(equal, one, two))
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(equal(one[key], two[key]) for key in one)
    if isinstance(one, bool) or isinstance(two, bool):
        return type(one) is type(two) and one == two
    return bool(one == two)


def _unique(items: list[Any]) -> bool:
    if all(type(item) is str for item in items):
        return len(set(items)) == len(items)
    return not any(equal(items[i], items[j]) for i in range(len(items)) for j in range(i))


def _schema(schema: Any) -> Check:
    if schema is True:
        return lambda value: True
    if schema is False:
        return lambda value: False
    if not isinstance(schema, dict):
        raise Unsupported
    unknown = set(schema) - ANNOTATIONS - set(_KEYWORDS) - {"then", "else"}
    if unknown:
        raise Unsupported(sorted(unknown))
    compiled = [_KEYWORDS[key](schema[key], schema) for key in schema if key in _KEYWORDS]
    checks = [check for check in compiled if check is not None]
    if not checks:
        return lambda value: True
    if len(checks) == 1:
        return checks[0]
    return lambda value: all(check(value) for check in checks)


Keyword = Callable[[Any, dict[str, Any]], Check | None]


def _type(names: Any, schema: dict[str, Any]) -> Check:
    try:
        tests = [TYPES[name] for name in ([names] if isinstance(names, str) else names)]
    except (KeyError, TypeError):
        raise Unsupported(names) from None
    if len(tests) == 1:
        return tests[0]
    return lambda value: any(test(value) for test in tests)


def _properties(properties: dict[str, Any], schema: dict[str, Any]) -> Check:
    compiled = {name: _schema(sub) for name, sub in properties.items()}

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        return all(compiled[key](item) for key, item in value.items() if key in compiled)

    return check


def _pattern_properties(patterns: dict[str, Any], schema: dict[str, Any]) -> Check:
    compiled = [(re.compile(pattern), _schema(sub)) for pattern, sub in patterns.items()]

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        return all(
            sub(item)
            for key, item in value.items()
            for pattern, sub in compiled
            if pattern.search(key)
        )

    return check


def _additional_properties(additional: Any, schema: dict[str, Any]) -> Check:
    known = frozenset(schema.get("properties", {}))
    joined = "|".join(schema.get("patternProperties", {}))
    patterns = re.compile(joined) if joined else None
    sub = _schema(additional)

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        return all(
            sub(item)
            for key, item in value.items()
            if key not in known and not (patterns is not None and patterns.search(key))
        )

    return check


def _property_names(names: Any, schema: dict[str, Any]) -> Check:
    sub = _schema(names)
    return lambda value: not isinstance(value, dict) or all(map(sub, value))


def _required(required: list[str], schema: dict[str, Any]) -> Check:
    return lambda value: not isinstance(value, dict) or all(key in value for key in required)


def _dependent_required(dependencies: dict[str, list[str]], schema: dict[str, Any]) -> Check:
    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        return all(
            needed in value
            for key, needs in dependencies.items()
            if key in value
            for needed in needs
        )

    return check


def _min_properties(least: int, schema: dict[str, Any]) -> Check:
    return lambda value: not isinstance(value, dict) or len(value) >= least


def _max_properties(most: int, schema: dict[str, Any]) -> Check:
    return lambda value: not isinstance(value, dict) or len(value) <= most


def _items(items: Any, schema: dict[str, Any]) -> Check:
    sub = _schema(items)
    return lambda value: not isinstance(value, list) or all(map(sub, value))


def _min_items(least: int, schema: dict[str, Any]) -> Check:
    return lambda value: not isinstance(value, list) or len(value) >= least


def _max_items(most: int, schema: dict[str, Any]) -> Check:
    return lambda value: not isinstance(value, list) or len(value) <= most


def _unique_items(unique: bool, schema: dict[str, Any]) -> Check | None:
    if not unique:
        return None
    return lambda value: not isinstance(value, list) or _unique(value)


def _enum(choices: list[Any], schema: dict[str, Any]) -> Check:
    return lambda value: any(equal(value, choice) for choice in choices)


def _const(constant: Any, schema: dict[str, Any]) -> Check:
    return lambda value: equal(value, constant)


def _pattern(pattern: str, schema: dict[str, Any]) -> Check:
    search = re.compile(pattern).search
    return lambda value: not isinstance(value, str) or search(value) is not None


def _min_length(least: int, schema: dict[str, Any]) -> Check:
    return lambda value: not isinstance(value, str) or len(value) >= least


def _max_length(most: int, schema: dict[str, Any]) -> Check:
    return lambda value: not isinstance(value, str) or len(value) <= most


def _minimum(least: float, schema: dict[str, Any]) -> Check:
    return lambda value: not _is_number(value) or value >= least


def _maximum(most: float, schema: dict[str, Any]) -> Check:
    return lambda value: not _is_number(value) or value <= most


def _exclusive_minimum(least: float, schema: dict[str, Any]) -> Check:
    return lambda value: not _is_number(value) or value > least


def _exclusive_maximum(most: float, schema: dict[str, Any]) -> Check:
    return lambda value: not _is_number(value) or value < most


def _all_of(subs: list[Any], schema: dict[str, Any]) -> Check:
    compiled = [_schema(sub) for sub in subs]
    return lambda value: all(check(value) for check in compiled)


def _any_of(subs: list[Any], schema: dict[str, Any]) -> Check:
    compiled = [_schema(sub) for sub in subs]
    return lambda value: any(check(value) for check in compiled)


def _one_of(subs: list[Any], schema: dict[str, Any]) -> Check:
    compiled = [_schema(sub) for sub in subs]
    return lambda value: sum(1 for check in compiled if check(value)) == 1


def _not(sub: Any, schema: dict[str, Any]) -> Check:
    compiled = _schema(sub)
    return lambda value: not compiled(value)


def _if(condition: Any, schema: dict[str, Any]) -> Check:
    test = _schema(condition)
    then = _schema(schema.get("then", True))
    otherwise = _schema(schema.get("else", True))
    return lambda value: then(value) if test(value) else otherwise(value)


_KEYWORDS: dict[str, Keyword] = {
    "additionalProperties": _additional_properties,
    "allOf": _all_of,
    "anyOf": _any_of,
    "const": _const,
    "dependentRequired": _dependent_required,
    "enum": _enum,
    "exclusiveMaximum": _exclusive_maximum,
    "exclusiveMinimum": _exclusive_minimum,
    "if": _if,
    "items": _items,
    "maxItems": _max_items,
    "maxLength": _max_length,
    "maxProperties": _max_properties,
    "maximum": _maximum,
    "minItems": _min_items,
    "minLength": _min_length,
    "minProperties": _min_properties,
    "minimum": _minimum,
    "not": _not,
    "oneOf": _one_of,
    "pattern": _pattern,
    "patternProperties": _pattern_properties,
    "properties": _properties,
    "propertyNames": _property_names,
    "required": _required,
    "type": _type,
    "uniqueItems": _unique_items,
}
