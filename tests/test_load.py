from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from crisiscomm.documents import load
from crisiscomm.documents.load import load_file, load_text
from crisiscomm.documents.source import Location, MarkedDict, MarkedList
from crisiscomm.errors import LoadError

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def load_error(text: str) -> LoadError:
    with pytest.raises(LoadError) as caught:
        load_text(text, "p.yaml")
    return caught.value


def test_yaml_1_1_words_stay_strings_even_as_keys() -> None:
    document = load_text("on: yes\nno: off\nstates: [y, n, Yes, NO]\n", "p.yaml")
    assert document == {"on": "yes", "no": "off", "states": ["y", "n", "Yes", "NO"]}


def test_times_and_timestamps_stay_strings() -> None:
    document = load_text("quiet_from: 22:00\nstart: 2026-04-03T06:00:00Z\nday: 2026-04-03\n", "p")
    assert document == {"quiet_from": "22:00", "start": "2026-04-03T06:00:00Z", "day": "2026-04-03"}


def test_core_schema_numbers_booleans_and_null() -> None:
    document = load_text(
        "a: 12\nb: 0x1F\nc: 0o17\nd: 1.5e3\ne: true\nf: FALSE\ng: ~\nh: null\n", "p"
    )
    assert document == {
        "a": 12,
        "b": 31,
        "c": 15,
        "d": 1500.0,
        "e": True,
        "f": False,
        "g": None,
        "h": None,
    }


def test_a_number_keeps_the_text_it_was_written_as() -> None:
    document = load_text("version: 3.10\n", "p.yaml")
    assert document["version"] == 3.1
    assert document.value_locations["version"].text == "3.10"


def test_quoted_scalars_are_strings() -> None:
    assert load_text("v: '3.10'\nw: \"true\"\n", "p") == {"v": "3.10", "w": "true"}


def test_every_key_value_and_item_has_a_location() -> None:
    document = load_text("a:\n  b: [x, y]\n  c: 1\n", "p.yaml")
    assert isinstance(document, MarkedDict)
    inner = document["a"]
    assert inner.key_locations["c"] == Location("p.yaml", 3, 3)
    assert inner.value_locations["c"] == Location("p.yaml", 3, 6)
    assert isinstance(inner["b"], MarkedList)
    assert inner["b"].item_locations == [Location("p.yaml", 2, 7), Location("p.yaml", 2, 10)]


def test_duplicate_key_names_both_locations() -> None:
    error = load_error("id: flood\ntitle: A\nid: flood2\n")
    assert error.rule == "duplicate-key"
    assert error.message == "duplicate key `id`: first defined at line 1"
    assert error.location == Location("p.yaml", 3, 1)


def test_billion_laughs_fails_fast_without_expanding() -> None:
    assert len(BILLION_LAUGHS) < 400
    started = time.perf_counter()
    error = load_error(BILLION_LAUGHS)
    elapsed = time.perf_counter() - started
    assert error.rule == "yaml-alias"
    assert "aliases expand to more than 10000 values" in error.message
    assert elapsed < 0.5


def test_a_few_aliases_are_fine() -> None:
    document = load_text("ladder: &l [{after: 10m}]\nother: *l\n", "p")
    assert document["other"] == [{"after": "10m"}]
    assert document["other"] is not document["ladder"]


def test_recursive_alias_is_refused() -> None:
    error = load_error("a: &a [1, *a]\n")
    assert error.rule == "yaml-alias"
    assert "refers to itself" in error.message


def test_merge_keys_are_refused_with_a_hint() -> None:
    error = load_error("base: &b {a: 1}\nstate:\n  <<: *b\n")
    assert error.message == "YAML merge keys (<<) are not supported in crisiscomm files"
    assert error.location.line == 3


@pytest.mark.parametrize(
    "text",
    [
        "a: !!python/object/apply:os.system [ls]\n",
        "a: !!binary aGVsbG8=\n",
        "a: !custom x\n",
        "a: !!set {x}\n",
    ],
)
def test_tags_other_than_core_types_are_refused(text: str) -> None:
    error = load_error(text)
    assert error.rule == "yaml-tag"
    assert error.message.startswith("unsupported YAML tag")


def test_nesting_depth_is_capped() -> None:
    deep = "[" * (load.MAX_DEPTH + 5) + "]" * (load.MAX_DEPTH + 5)
    error = load_error(f"a: {deep}\n")
    assert error.rule == "yaml-limits"
    assert "deeper than 64 levels" in error.message


def test_file_size_is_capped(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("a: " + "x" * (load.MAX_FILE_BYTES + 1) + "\n", encoding="utf-8")
    with pytest.raises(LoadError) as caught:
        load_file(path)
    assert caught.value.rule == "yaml-limits"
    assert "the limit is 1 MiB" in caught.value.message


def test_syntax_error_points_at_the_line() -> None:
    error = load_error("id: flood\nstates:\n  a: [1, 2\n  b: 3\n")
    assert error.rule == "yaml-syntax"
    assert error.message.startswith("YAML syntax error: ")
    assert error.location.line == 4


def test_empty_file_is_an_error() -> None:
    error = load_error("# only a comment\n")
    assert error.message == "the file is empty"


def test_non_utf8_file_names_the_line(write: Callable[[str, str], Path], tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("id: x\ntitle: Qoraqalpog\u02bbiston\n".encode()[:-3] + b"\xff\n")
    with pytest.raises(LoadError) as caught:
        load_file(path)
    assert caught.value.message == "the file is not valid UTF-8"
    assert caught.value.location.line == 2


def test_non_string_keys_become_their_text() -> None:
    assert load_text("1: a\ntrue: b\n", "p") == {"1": "a", "true": "b"}


def test_libyaml_parser_is_used() -> None:
    assert yaml.__with_libyaml__
    assert issubclass(load._Composer, yaml.cyaml.CBaseLoader)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: !!int abc\n", "`abc` is not a valid int value"),
        ("a: !!bool maybe\n", "`maybe` is not a valid bool value"),
        ("a: !!null x\n", "`x` is not a valid null value"),
    ],
)
def test_explicit_core_tags_must_fit_their_value(text: str, message: str) -> None:
    error = load_error(text)
    assert (error.rule, error.message) == ("yaml-tag", message)


def test_explicit_core_tags_that_fit_are_fine() -> None:
    assert load_text("a: !!int 12\nb: !!str 12\nc: !!bool true\n", "p") == {
        "a": 12,
        "b": "12",
        "c": True,
    }
