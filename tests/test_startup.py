"""Start-up of the commands people feel: what they import, and the compiled-playbook cache.

No timings here (benchmarks/startup.py measures them): these tests pin the causes. A
command loads no heavy library it does not use, and a cached playbook is used only while
every source it was compiled from is unchanged.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from crisiscomm.documents.library import Library
from crisiscomm.playbook import cache
from crisiscomm.playbook.compile import compile_playbook

from .conftest import REPO

HEAVY = ("babel", "jinja2", "jsonschema", "pygal", "rich", "textual")

# runs a command in a fresh process the way `crisiscomm` does, then reports what was loaded
PROBE = """
import json, sys
from crisiscomm.cli import main
code = main(sys.argv[1:])
loaded = sorted(sys.modules)
print(json.dumps({"code": code, "loaded": loaded}), file=sys.stderr)
"""


def run(*args: str, cwd: Path, env: dict[str, str]) -> tuple[int, set[str], str]:
    """A crisiscomm command in a fresh process: exit code, the modules loaded (packages by
    their top-level name too), stdout."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    loaded = set(report["loaded"])
    return report["code"], loaded | {name.split(".")[0] for name in loaded}, done.stdout


@pytest.fixture
def office_repo(tmp_path: Path) -> Path:
    """A copy of the shipped office: office.yaml, protocols/ and playbooks/."""
    repo = tmp_path / "office"
    repo.mkdir()
    shutil.copy(REPO / "office.yaml", repo / "office.yaml")
    shutil.copytree(REPO / "protocols", repo / "protocols")
    shutil.copytree(REPO / "playbooks", repo / "playbooks")
    return repo


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of a command run by the tests: its own database and cache."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("CRISISCOMM_NO_CACHE", "CRISISCOMM_OFFICE", "CRISISCOMM_PROTOCOLS")
    }
    environment.update(
        CRISISCOMM_DB=str(tmp_path / "crisiscomm.db"),
        CRISISCOMM_ACTOR="asultanova",
        CRISISCOMM_LANG="en",
        XDG_CACHE_HOME=str(tmp_path / "cache"),
    )
    return environment


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The cache of this test's own process."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("CRISISCOMM_NO_CACHE", raising=False)
    return tmp_path / "cache" / "crisiscomm" / "playbooks"


OPEN = ("open-incident", "flood", "--title", "Levee breach", "--severity", "high")
FACTS = ("--fact", "district=Beruniy", "--fact", "hotline=1050")


def test_open_incident_loads_no_heavy_library_and_no_yaml_once_cached(
    office_repo: Path, env: dict[str, str]
) -> None:
    code, first, _out = run(*OPEN, *FACTS, cwd=office_repo, env=env)
    assert code == 0
    assert first.isdisjoint(HEAVY), first & set(HEAVY)
    code, second, out = run(*OPEN, *FACTS, cwd=office_repo, env=env)
    assert (code, out.split()[0][-4:]) == (0, "0002")
    # the playbook came from the cache: not even YAML was parsed, and nothing was logged
    unneeded = {*HEAVY, "logging", "yaml"}
    assert second.isdisjoint(unneeded), second & unneeded


def test_show_and_list_load_no_heavy_library(office_repo: Path, env: dict[str, str]) -> None:
    code, _loaded, out = run(*OPEN, *FACTS, cwd=office_repo, env=env)
    incident = out.split()[0]
    for command in (("show", incident), ("list",), ("--version",), ("--help",)):
        code, loaded, _out = run(*command, cwd=office_repo, env=env)
        assert code == 0, command
        assert loaded.isdisjoint({*HEAVY, "yaml"} - {"rich"}), (command, loaded & set(HEAVY))


# What a command does not need, imported where it is used instead (start-up is paid by
# every command an officer types): the board's register summary and its classes, the
# register's rows, the incident steps (their Outcome and templates: `show` only lists the
# possible triggers), the parsers of typed dates and numbers and `decimal`, the
# suggestions for a mistyped place (difflib), the office's model when only its file is
# looked for, JUnit's XML, random keys and keyed hashes, and the traceback printed for a
# bug. Each frozen dataclass costs `show` about a millisecond to build at import.
NOT_LOADED_BY = {
    "show": {
        "crisiscomm.engine.incident",
        "crisiscomm.engine.outcome",
        "crisiscomm.store.inbox_rows",
        "crisiscomm.templates",
        "crisiscomm.ui.board",
        "crisiscomm.ui.register",
        "decimal",
        "difflib",
        "hmac",
        "secrets",
        "traceback",
    },
    "validate": {
        "crisiscomm.formats.dates",
        "crisiscomm.formats.numbers",
        "crisiscomm.office.model",
        "decimal",
        "difflib",
        "traceback",
        "xml",
    },
}


def test_show_and_validate_load_only_what_they_use(office_repo: Path, env: dict[str, str]) -> None:
    code, _loaded, out = run(*OPEN, *FACTS, cwd=office_repo, env=env)
    assert code == 0
    for command in (("show", out.split()[0]), ("validate", "playbooks/flood.yaml")):
        code, loaded, _out = run(*command, cwd=office_repo, env=env)
        assert code == 0, command
        unneeded = NOT_LOADED_BY[command[0]]
        assert loaded.isdisjoint(unneeded), (command[0], loaded & unneeded)


def test_classes_built_on_first_use_are_still_found_where_they_were() -> None:
    from crisiscomm.engine import context, incident
    from crisiscomm.store import inbox, inbox_rows
    from crisiscomm.ui import board, readmodel

    assert (readmodel.Board, readmodel.FeedItem) == (board.Board, board.FeedItem)
    assert (inbox.InboxItem, inbox.PersonRecord) == (inbox_rows.InboxItem, inbox_rows.PersonRecord)
    assert incident.possible_triggers is context.possible_triggers
    for module in (readmodel, inbox):
        with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
            module.Nothing  # noqa: B018


def test_validate_of_a_clean_file_does_not_load_jsonschema(
    office_repo: Path, env: dict[str, str]
) -> None:
    code, loaded, out = run("validate", "playbooks/flood.yaml", cwd=office_repo, env=env)
    assert (code, out) == (0, "1 file checked: no problems found\n")
    assert loaded.isdisjoint(HEAVY), loaded & set(HEAVY)


def test_validate_of_a_broken_file_still_reports_at_file_and_line(
    office_repo: Path, env: dict[str, str]
) -> None:
    flood = office_repo / "playbooks" / "flood.yaml"
    lines = flood.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines) if line.startswith("title:"))
    lines.insert(number + 1, "titel: typo")
    flood.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, loaded, out = run("validate", "playbooks/flood.yaml", cwd=office_repo, env=env)
    assert code == 1
    assert f"playbooks/flood.yaml:{number + 2}:1: error: unknown key `titel`" in out
    assert "jsonschema" in loaded  # the quick check said no; jsonschema words the finding


# -- the cache of compiled playbooks ----------------------------------------------------


def compile_and_remember(path: Path) -> str:
    library = Library()
    playbook = compile_playbook(path, library=library)
    cache.remember(path, playbook, library)
    return playbook.content_hash


def test_a_cached_playbook_is_the_compiled_one(office_repo: Path, cache_home: Path) -> None:
    flood = office_repo / "playbooks" / "flood.yaml"
    assert cache.cached(flood) is None
    library = Library()
    compiled = compile_playbook(flood, library=library)
    cache.remember(flood, compiled, library)
    [entry] = cache_home.iterdir()
    assert entry.suffix == ".json"
    assert entry.stat().st_mode & 0o077 == 0  # the office's people: its owner's only
    assert cache_home.stat().st_mode & 0o077 == 0
    again = cache.cached(flood)
    assert again is not None
    assert again.content_hash == compiled.content_hash
    assert again.files == compiled.files
    assert dict(again.content) == dict(compiled.content)


@pytest.mark.parametrize(
    "change",
    [
        "protocol edited",
        "playbook edited",
        "office edited",
        "office moved",
        "protocol shadowed",
    ],
)
def test_a_changed_source_is_never_served_stale(
    office_repo: Path, cache_home: Path, change: str
) -> None:
    flood = office_repo / "playbooks" / "flood.yaml"
    before = compile_and_remember(flood)
    assert cache.cached(flood) is not None
    standard = office_repo / "protocols" / "standard.yaml"
    office = office_repo / "office.yaml"
    if change == "protocol edited":
        stat = standard.stat()
        text = standard.read_text(encoding="utf-8")
        standard.write_text(text.replace("Record who", "Report who", 1), encoding="utf-8")
        # the same size and time as before do not fool it: it compares hashes
        os.utime(standard, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        assert standard.stat().st_size == stat.st_size
    elif change == "playbook edited":
        flood.write_text(flood.read_text(encoding="utf-8") + "# a comment\n", encoding="utf-8")
    elif change == "office edited":
        office.write_text(office.read_text(encoding="utf-8") + "# a comment\n", encoding="utf-8")
    elif change == "office moved":  # beside the playbook, it is found before the one above
        office.rename(office_repo / "playbooks" / "office.yaml")
    else:  # a protocol of the same id beside the playbook is found before protocols/
        shutil.copy(standard, office_repo / "playbooks" / "standard.yaml")
    assert cache.cached(flood) is None
    after = compile_playbook(flood)
    if change == "protocol edited":
        assert after.content_hash != before


def test_a_corrupt_or_unreadable_entry_means_compiling_again(
    office_repo: Path, cache_home: Path
) -> None:
    flood = office_repo / "playbooks" / "flood.yaml"
    compile_and_remember(flood)
    [entry] = cache_home.iterdir()
    text = entry.read_text(encoding="utf-8")
    for broken in (text[: len(text) // 2], "", "[]", "{}", '{"format": 1, "links": 3}'):
        entry.write_text(broken, encoding="utf-8")
        assert cache.cached(flood) is None
    tampered = json.loads(text)
    tampered["content"]["title"] = "Something else"
    entry.write_text(json.dumps(tampered), encoding="utf-8")
    assert cache.cached(flood) is None  # its content no longer has the recorded hash
    entry.unlink()
    entry.mkdir()  # unreadable as a file
    assert cache.cached(flood) is None
    compile_and_remember(flood)  # and writing over it fails quietly


def test_an_unwritable_cache_is_skipped(
    office_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    flood = office_repo / "playbooks" / "flood.yaml"
    compile_and_remember(flood)
    assert cache.cached(flood) is None


def test_no_cache_with_crisiscomm_no_cache(
    office_repo: Path, cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRISISCOMM_NO_CACHE", "1")
    flood = office_repo / "playbooks" / "flood.yaml"
    compile_and_remember(flood)
    assert not cache_home.exists()
    assert cache.cached(flood) is None


def test_cache_folder_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CRISISCOMM_NO_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.cache_dir() == tmp_path / "crisiscomm" / "playbooks"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert cache.cache_dir() == Path.home() / ".cache" / "crisiscomm" / "playbooks"
    monkeypatch.setenv("CRISISCOMM_NO_CACHE", "0")
    assert cache.cache_dir() is not None


def test_a_protocol_change_reaches_the_next_command(office_repo: Path, env: dict[str, str]) -> None:
    code, _loaded, out = run(*OPEN, *FACTS, cwd=office_repo, env=env)
    assert code == 0 and "Record who reported what" in out
    standard = office_repo / "protocols" / "standard.yaml"
    text = standard.read_text(encoding="utf-8")
    standard.write_text(text.replace("Record who reported what", "Log who reported what"))
    code, _loaded, out = run(*OPEN, *FACTS, cwd=office_repo, env=env)
    assert code == 0
    assert "Log who reported what" in out


# -- the kinds validate dispatches on ---------------------------------------------------


def test_each_kind_is_named_and_keyed_as_its_module_defines_it() -> None:
    from crisiscomm.validation import KINDS, every_kind

    assert [(k.name, k.key) for k in KINDS] == [(k.name, k.key) for k in every_kind()]


def test_validate_of_a_playbook_loads_no_drill_code_and_sarif_still_lists_every_rule(
    office_repo: Path, env: dict[str, str]
) -> None:
    code, loaded, _out = run("validate", "playbooks/flood.yaml", cwd=office_repo, env=env)
    assert code == 0
    assert not {
        name for name in loaded if name.startswith(("crisiscomm.drill", "crisiscomm.inbox"))
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "validate", "--format", "sarif", "playbooks/flood.yaml"],
        cwd=office_repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    rules = {rule["id"] for rule in json.loads(done.stdout)["runs"][0]["tool"]["driver"]["rules"]}
    from crisiscomm.documents.rules import RULES
    from crisiscomm.validation import every_kind

    every_kind()
    assert rules == set(RULES)


RACER = """
import sys
from pathlib import Path
from crisiscomm.documents.library import Library
from crisiscomm.playbook import cache
from crisiscomm.playbook.compile import compile_playbook

path = Path(sys.argv[1])
for _ in range(5):
    library = Library()
    compiled = compile_playbook(path, library=library)
    cache.remember(path, compiled, library)
    found = cache.cached(path)
    assert found is None or found.content_hash == compiled.content_hash
"""


def test_processes_racing_on_one_entry_each_see_a_whole_one(
    office_repo: Path, env: dict[str, str], tmp_path: Path
) -> None:
    flood = office_repo / "playbooks" / "flood.yaml"
    racers = [
        subprocess.Popen([sys.executable, "-c", RACER, str(flood)], env=env, cwd=office_repo)
        for _ in range(4)
    ]
    assert [racer.wait(timeout=120) for racer in racers] == [0, 0, 0, 0]
    folder = tmp_path / "cache" / "crisiscomm" / "playbooks"
    assert [entry.suffix for entry in folder.iterdir()] == [".json"]  # no temporary left
