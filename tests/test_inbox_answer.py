"""Answers in the register: drafted in the asker's language (from the linked incident's
latest released statement or a template of inbox.yaml), cleared where the office says so,
then sent; every refusal says why and changes nothing. Through the CLI, on both databases."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crisiscomm.cli import main
from crisiscomm.clock import SimulatedClock, SystemClock
from crisiscomm.inbox.check import ITEM_PLACEHOLDERS
from crisiscomm.store import Store
from tests.conftest import confirm, open_press, release_holding
from tests.conftest_store import (  # noqa: F401 (fixtures, used by name)
    pg_admin_fixture,
    sql,
    store_fixture,
    target_fixture,
)

REPO = Path(__file__).resolve().parents[1]
T0 = datetime(2027, 3, 5, 5, 0, tzinfo=UTC)  # Friday 10:00 in Tashkent: the holding release
NOW = T0 + timedelta(minutes=30)  # when the officers at the CLI act
Run = Callable[..., tuple[int, str, str]]


def cleared_register(folder: Path) -> Path:
    """The shipped register, whose rule is the head of press's clearance of media answers,
    in a folder of its own (its calendar found where it is shipped)."""
    text = (REPO / "inbox.yaml").read_text(encoding="utf-8")
    assert "    clearance: [head_of_press]\n" in text
    path = folder / "cleared" / "inbox.yaml"
    path.parent.mkdir()
    text = text.replace("calendar: calendars/", f"calendar: {REPO}/calendars/")
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(name="cli")
def cli_fixture(
    monkeypatch: pytest.MonkeyPatch,
    target: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> Run:
    """`crisiscomm ARGS` on the test's database, as asultanova (a duty officer), at NOW, in
    an office whose media answers the head of press clears."""
    monkeypatch.setenv("CRISISCOMM_INBOX", str(cleared_register(tmp_path)))
    monkeypatch.setenv("CRISISCOMM_DB", target)
    monkeypatch.setenv("CRISISCOMM_ACTOR", "asultanova")
    monkeypatch.setattr(SystemClock, "now", lambda self: NOW)

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
        code = main([*args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture(name="incident")
def incident_fixture(store: Store) -> str:
    """An incident of the press fixture playbook (texts in kaa and ru only) whose holding
    statement was released at T0."""
    clock = SimulatedClock(T0)
    incident_id = open_press(store, clock)
    confirm(store, clock, incident_id)
    release_holding(store, clock, incident_id)
    return incident_id


def add(cli: Run, kind: str, language: str, *links: str) -> str:
    """Register an item received at 10:15; its id."""
    code, out, err = cli(
        "inbox", "add", kind, "--received", "2027-03-05 10:15", "--channel", "phone",
        "--source", "@kun_uz", "--language", language, "--subject", "Dam",
        "--text", "Is the dam safe?", *(a for link in links for a in ("--incident", link)),
    )  # fmt: skip
    assert code == 0, err
    return out.split()[0]


def released_text(store: Store, incident_id: str, language: str) -> str:
    holding = store.get_incident(incident_id).data["statements"]["holding"]
    return str(holding["versions"][-1]["texts"][language])


def events(store: Store, item_id: str) -> list[str]:
    return [event.type for event in store.inbox_events(item_id)]


# -- drafting -----------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["kaa", "ru"])
def test_a_draft_is_the_latest_released_statement_in_the_askers_language(
    cli: Run, store: Store, incident: str, language: str
) -> None:
    item = add(cli, "media_query", language, incident)
    code, out, err = cli("inbox", "draft", item)
    assert code == 0, err
    text = released_text(store, incident, language)
    assert out == (
        f"{item}: draft answer, version 1, in {language}, from statement `holding` of "
        f"{incident}, version 1 as released\n\n{text}\n\n"
        f"clearance: waiting for head_of_press (`crisiscomm inbox approve {item}`)\n"
    )
    assert events(store, item) == ["inbox.received", "inbox.drafted"]
    drafted = store.inbox_events(item)[-1]
    assert drafted.actor == "asultanova"
    assert drafted.data["text"] == text and drafted.data["language"] == language


@pytest.mark.parametrize(
    ("language", "greeting", "next_update"),
    [
        ("uz", "Hurmatli hamkasblar!", "muddat: 2027-yil 5-mart, 12:00."),
        ("en", "Dear colleagues,", "published by March 5, 2027, 12:00\u202fPM."),
    ],
)
def test_a_statement_without_the_askers_language_falls_back_to_the_template_and_says_so(
    cli: Run, store: Store, incident: str, language: str, greeting: str, next_update: str
) -> None:
    item = add(cli, "media_query", language, incident)
    code, out, _err = cli("inbox", "draft", item, "--from-statement")
    assert code == 0
    lines = out.splitlines()
    assert lines[:3] == [
        f"{item}: draft answer, version 1, in {language}, from the template `incident`",
        f"note: the latest released statement of {incident} (`holding`, version 1) has no "
        f"text in `{language}`, the asker's language: drafted from the template `incident` "
        "instead",
        "",
    ]
    assert lines[3] == greeting
    assert item in out and next_update in out  # the promise of the holding statement's release
    # the office signs in the asker's language; nothing of the statement's languages leaks in
    office = {"uz": "Vazirlar Kengashining matbuot xizmati", "en": "Press Service of the"}
    assert office[language] in out
    assert released_text(store, incident, "ru") not in out
    assert "hádiyse" not in out
    record = store.inbox_events(item)[-1].data
    assert record["source"] == {
        "template": "incident",
        "instead_of_statement": {"incident": incident, "statement": "holding"},
    }
    other = add(cli, "media_query", language, incident)
    code, out, _err = cli("inbox", "draft", other, "--json")
    assert code == 0
    drafted = json.loads(out)
    assert (drafted["id"], drafted["waiting"]) == (other, ["head_of_press"])
    assert drafted["note"].startswith(f"the latest released statement of {incident}")
    assert drafted["draft"]["language"] == language and drafted["draft"]["approvals"] == []


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("kaa", "2027-jıl 5-mart sánedegi sorawıńız ushın raxmet (reestr nomeri {item})."),
        ("uz", "2027-yil 5-mart sanadagi savolingiz uchun rahmat (reyestr raqami {item})."),
        ("ru", "Благодарим вас за вопрос от 5 марта 2027\u202fг. (номер в реестре {item})."),
        ("en", "Thank you for your question of March 5, 2027 (register number {item})."),
    ],
)
def test_a_template_is_drafted_in_each_of_the_four_languages(
    cli: Run, incident: str, language: str, expected: str
) -> None:
    item = add(cli, "question", language, incident)
    code, out, _err = cli("inbox", "draft", item, "--template", "incident")
    assert code == 0
    assert out.splitlines()[2] == expected.format(item=item)
    assert out.endswith(f"ready: send it with `crisiscomm inbox answer {item}`\n")  # no clearance
    assert "$" not in out


def test_placeholders_come_from_the_item_and_the_incidents_facts(
    cli: Run, incident: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = (REPO / "inbox.yaml").read_text(encoding="utf-8")
    every = " ".join(f"{name}=${name}" for name in sorted(ITEM_PLACEHOLDERS))
    register = shipped.replace("calendar: calendars/uz-2027.yaml\n", "").replace(
        "answers:\n",
        f"answers:\n  appeal:\n    templates:\n      all:\n        ru: {every} region=$region\n",
    )
    (tmp_path / "inbox.yaml").write_text(register, encoding="utf-8")
    monkeypatch.setenv("CRISISCOMM_INBOX", str(tmp_path / "inbox.yaml"))
    item = add(cli, "appeal", "ru", incident)
    code, out, _err = cli("inbox", "draft", item, "--template", "all")
    assert code == 0
    assert out.splitlines()[2] == (
        f"item_id={item} office=Пресс-служба Совета Министров Республики Каракалпакстан "
        "received_at=5 марта 2027\u202fг., 10:15 received_on=5 марта 2027\u202fг. "
        "source=@kun_uz subject=Dam region=Nukus"
    )


def test_a_draft_is_refused_where_it_would_not_be_in_the_askers_language(
    cli: Run, store: Store, incident: str
) -> None:
    item = add(cli, "media_query", "tr", incident)
    code, out, err = cli("inbox", "draft", item)
    assert (code, out) == (1, "")
    assert err.startswith(
        f"crisiscomm: error: the latest released statement of {incident} (`holding`, version 1) "
        "has no text in `tr`, the asker's language; the template `incident` has no text in "
        "`tr`, the asker's language (it has: kaa, uz, ru, en)\n"
        f"  hint: write the answer yourself: crisiscomm inbox draft {item} --text ..."
    ), err
    code, _out, err = cli("inbox", "draft", item, "--template", "incident")
    assert code == 1 and "the template `incident` has no text in `tr`" in err
    code, _out, err = cli("inbox", "draft", item, "--template", "none_such")
    assert code == 1 and "`media_query` has no answer template `none_such`" in err
    assert "its templates: incident" in err
    assert events(store, item) == ["inbox.received"]


def test_a_template_that_needs_an_incident_says_how_to_link_one(cli: Run, store: Store) -> None:
    item = add(cli, "question", "ru")
    code, _out, err = cli("inbox", "draft", item)
    assert code == 1
    assert f"the template `incident` needs $next_update_at, which have no value for {item}" in err
    assert f"link it with `crisiscomm inbox link {item} INCIDENT`" in err
    code, _out, err = cli("inbox", "draft", item, "--from-statement")
    assert code == 1
    assert err.startswith(
        f"crisiscomm: error: {item} is linked to no incident with a released statement; the "
        "template `incident` needs $next_update_at"
    ), err
    appeal = add(cli, "appeal", "ru")
    code, _out, err = cli("inbox", "draft", appeal)
    assert code == 1 and "inbox.yaml has no answer template for `appeal`" in err
    assert events(store, item) == events(store, appeal) == ["inbox.received"]


def test_an_officers_own_wording_is_a_new_version(
    cli: Run, store: Store, incident: str, tmp_path: Path
) -> None:
    item = add(cli, "question", "ru", incident)
    assert cli("inbox", "draft", item, "--text", "Плотина безопасна.")[0] == 0
    (tmp_path / "answer.txt").write_text("Плотина безопасна; обход 14:00.\n", encoding="utf-8")
    code, out, _err = cli("inbox", "draft", item, "--file", str(tmp_path / "answer.txt"))
    assert code == 0
    assert out.startswith(
        f"{item}: draft answer, version 2, in ru, from the text asultanova wrote\n\n"
        "Плотина безопасна; обход 14:00.\n\n"
    )
    code, _out, err = cli("inbox", "draft", item, "--file", str(tmp_path / "answer.txt"))
    assert code == 1 and f"the draft answer of {item} already reads exactly so: version 2" in err
    code, _out, err = cli("inbox", "draft", item, "--text", "\u200b \u200b")
    assert code == 1 and "the answer is empty: it has no visible character" in err
    code, _out, err = cli("inbox", "draft", item, "--text", "x", "--template", "incident")
    assert code == 2 and "give one of --template, --from-statement and --text/--file" in err
    code, _out, err = cli("inbox", "draft", item, "--text", "x", "--incident", "INC-2027-0042")
    assert code == 1 and f"{item} is not linked to INC-2027-0042" in err
    code, _out, err = cli("inbox", "draft", item, "--file", str(tmp_path / "none.txt"))
    assert code == 2 and "none.txt: no such file" in err
    assert events(store, item) == ["inbox.received", "inbox.drafted", "inbox.drafted"]
    shown = json.loads(cli("inbox", "show", item, "--json")[1])["draft"]
    assert (shown["version"], shown["authors"], shown["source"]) == (
        2,
        ["asultanova"],
        {"written": True},
    )
    # a kind the office does not clear: `answer` sends the draft, or what is typed instead
    assert cli("inbox", "answer", item) == (0, f"{item} is now answered\n", "")
    assert store.get_inbox_item(item).answer == "Плотина безопасна; обход 14:00."
    sent = store.inbox_events(item)[-1].data
    assert sent["draft"]["version"] == 2 and "cleared_by" not in sent["draft"]
    other = add(cli, "question", "uz")
    code, _out, err = cli("inbox", "answer", other)
    assert code == 1 and "`answer` needs the answer" in err
    assert f"draft it first: crisiscomm inbox draft {other}" in err
    cli("inbox", "draft", other, "--text", "Ertaga.")
    assert cli("inbox", "answer", other, "--answer", "Bugun.")[0] == 0
    assert store.get_inbox_item(other).answer == "Bugun."
    assert "draft" not in store.inbox_events(other)[-1].data


def test_a_post_is_rebutted_from_its_template(cli: Run, store: Store) -> None:
    post = add(cli, "post", "kaa")
    code, out, _err = cli("inbox", "draft", post)  # while it is being checked
    assert code == 0
    assert "Baspasóz xızmeti sociallıq tarmaqlarda tarqalıp atırǵan xabardı (@kun_uz)" in out
    assert cli("inbox", "answer", post, "--verdict", "false")[0] == 0
    assert cli("inbox", "answer", post) == (0, f"{post} is now rebutted\n", "")
    code, _out, err = cli("inbox", "draft", post, "--template", "clarification")
    assert code == 1
    assert f"{post} is `rebutted` and takes no answer any more" in err


# -- clearance ----------------------------------------------------------------------------------


def test_a_media_answer_goes_out_only_as_its_approvers_cleared_it(
    cli: Run, store: Store, incident: str, target: str
) -> None:
    item = add(cli, "media_query", "ru", incident)
    code, _out, err = cli("inbox", "approve", item, "--as", "ballamuratov")
    assert code == 1 and f"{item} has no draft answer to approve" in err
    cli("inbox", "draft", item)
    before = sql(target, f"SELECT version, status, data FROM inbox_items WHERE id = '{item}'")
    refusals = [
        (
            ("answer", item),
            f"version 1 of the answer to {item} is not cleared: waiting for head_of_press\n"
            f"  hint: a holder of head_of_press approves it with `crisiscomm inbox approve {item}`",
        ),
        (
            ("answer", item, "--answer", "Плотина безопасна."),
            "the answer to a media_query goes out only as cleared by head_of_press; this text "
            "is not the cleared draft",
        ),
        (
            ("approve", item),
            f"Aygul Sultanova wrote a version of the answer to {item} and may not approve it "
            "(four-eyes)\n  hint: another holder of head_of_press must approve it",
        ),
        (
            ("approve", item, "--as", "qjumaniyazov"),
            f"the answer to {item} waits for approval by head_of_press; Quanishbek "
            "Jumaniyazov does not hold that role\n  hint: who holds it: Baxtiyar Allamuratov,",
        ),
        (
            ("approve", item, "--as", "ballamuratov", "--version", "2"),
            f"the draft answer of {item} is version 1 now, not version 2",
        ),
    ]
    for args, message in refusals:
        code, out, err = cli("inbox", *args)
        assert (code, out) == (1, ""), args
        assert err.startswith(f"crisiscomm: error: {message}"), err
    after = sql(target, f"SELECT version, status, data FROM inbox_items WHERE id = '{item}'")
    assert after == before
    assert events(store, item) == ["inbox.received", "inbox.drafted"]

    code, out, _err = cli("inbox", "approve", item, "--as", "ballamuratov", "--version", "1")
    assert (code, out) == (
        0,
        f"{item}: version 1 of the answer approved for head_of_press\n"
        f"ready: send it with `crisiscomm inbox answer {item}`\n",
    )
    code, _out, err = cli("inbox", "approve", item, "--as", "zabdurahmonova")
    assert code == 1 and f"version 1 of the answer to {item} is already cleared" in err
    code, _out, err = cli("inbox", "approve", item, "--as", "ballamuratov")
    assert code == 1 and "Baxtiyar Allamuratov has already approved version 1" in err
    shown = cli("inbox", "show", item)[1]
    assert "  draft: version 1, ru, by asultanova, from statement `holding`" in shown
    assert "  clearance: approved by head_of_press (ballamuratov); waiting for -" in shown

    assert cli("inbox", "answer", item) == (0, f"{item} is now answered\n", "")
    stored = store.get_inbox_item(item)
    assert stored.answer == released_text(store, incident, "ru")
    answered = store.inbox_events(item)[-1]
    assert answered.type == "inbox.answer"
    assert answered.data["draft"]["cleared_by"] == [
        {"role": "head_of_press", "actor": "ballamuratov"}
    ]
    assert answered.data["draft"]["hash"] == stored.data["draft"]["hash"]
    approved = store.inbox_events(item)[-2]
    assert (approved.type, approved.actor, approved.data["role"]) == (
        "inbox.approved",
        "ballamuratov",
        "head_of_press",
    )
    assert "(sent)" in cli("inbox", "show", item)[1]
    code, _out, err = cli("inbox", "approve", item, "--as", "zabdurahmonova")
    assert code == 1 and f"{item} is `answered` and takes no answer any more" in err
    assert cli("inbox", "close", item)[0] == 0
    code, out, err = cli("inbox", "approve", item, "--as", "zabdurahmonova")
    assert (code, out) == (1, "")
    assert f"{item} is closed: its answer can no longer be drafted or approved" in err
    code, _out, err = cli("inbox", "draft", item, "--text", "Ещё раз.")
    assert code == 1 and f"{item} is closed" in err
    assert cli("audit", "verify")[:2] == (0, "audit: every event chain holds\n")


def test_an_approval_is_given_in_ones_own_name_where_the_office_says_so(
    cli: Run, store: Store, incident: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = add(cli, "media_query", "ru", incident)
    cli("inbox", "draft", item)
    # the example office is a shared duty workstation: the record says who typed it
    assert cli("inbox", "approve", item, "--as", "ballamuratov")[0] == 0
    approved = store.inbox_events(item)[-1]
    assert approved.actor == "ballamuratov" and approved.data["entered_by"] == store.identity()
    other = add(cli, "media_query", "ru", incident)
    cli("inbox", "draft", other)
    strict = (REPO / "office.yaml").read_text(encoding="utf-8")
    assert "  acting_for: allowed\n" in strict
    strict = strict.replace("  acting_for: allowed\n", "  acting_for: refused\n")
    (tmp_path / "office.yaml").write_text(strict, encoding="utf-8")
    monkeypatch.setenv("CRISISCOMM_OFFICE", str(tmp_path / "office.yaml"))
    code, out, err = cli("inbox", "approve", other, "--as", "ballamuratov")
    assert (code, out) == (1, "")
    assert err.startswith(
        f"crisiscomm: error: you are {store.identity()}: the office does not let anyone act "
        "for someone else, so --as may only name yourself"
    ), err
    assert events(store, other) == ["inbox.received", "inbox.drafted"]


def test_a_new_version_needs_its_clearance_again(cli: Run, store: Store, incident: str) -> None:
    item = add(cli, "media_query", "en", incident)
    cli("inbox", "draft", item)
    assert cli("inbox", "approve", item, "--as", "ballamuratov")[0] == 0
    code, out, _err = cli(
        "inbox", "draft", item, "--text", "The dam holds.", "--as", "ballamuratov"
    )
    assert code == 0
    assert out.endswith(
        f"clearance: waiting for head_of_press (`crisiscomm inbox approve {item}`)\n"
    )
    # ballamuratov now wrote a version: another holder of the role approves
    code, _out, err = cli("inbox", "approve", item, "--as", "ballamuratov")
    assert code == 1 and "Baxtiyar Allamuratov wrote a version" in err
    code, _out, err = cli("inbox", "answer", item, "--answer", "The dam holds.")
    assert code == 1 and "is not cleared: waiting for head_of_press" in err
    assert cli("inbox", "approve", item, "--as", "lkarimova")[0] == 0  # a deputy stands in
    assert cli("inbox", "answer", item, "--answer", "The dam holds.")[0] == 0
    assert store.get_inbox_item(item).answer == "The dam holds."


# -- the register document ----------------------------------------------------------------------


def write_register(tmp_path: Path, answers: str) -> Path:
    """The shipped register with `answers` in place of its own, beside a copy of the office."""
    shipped = (REPO / "inbox.yaml").read_text(encoding="utf-8")
    head = shipped.split("\nanswers:\n")[0].replace("calendar: calendars/uz-2027.yaml\n", "")
    (tmp_path / "office.yaml").write_text(
        (REPO / "office.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    path = tmp_path / "inbox.yaml"
    path.write_text(head + "\n" + answers, encoding="utf-8")
    return path


ANSWERS = """\
answers:
  media_query:
    clearance: [head_of_press, press_chief]
    templates:
      incident:
        ru: >-
          Ответ на запрос $item_id.


          Следующее сообщение: $next_update_time.
        en: "Costs $ 5 for $subject"
  rumour:
    templates: {}
"""


def test_validate_names_the_line_of_each_template_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_register(tmp_path, ANSWERS)
    code = main(["validate", str(path)])
    out = capsys.readouterr().out
    line = {text: number for number, text in enumerate(path.read_text().splitlines(), 1)}
    assert code == 1
    assert f"inbox.yaml:{line['  rumour:']}:3: error: unknown kind `rumour`" in out, out
    path = write_register(tmp_path, ANSWERS.replace("  rumour:\n    templates: {}\n", ""))
    code = main(["validate", str(path)])
    out = capsys.readouterr().out
    lines = path.read_text().splitlines()
    at = {text.strip(): number for number, text in enumerate(lines, 1)}
    assert code == 1
    costs = at['en: "Costs $ 5 for $subject"']
    expected = [
        f"inbox.yaml:{at['Следующее сообщение: $next_update_time.']}:32: error: placeholder "
        "`$next_update_time` is none of the item's values, the built-ins or a fact of the "
        "office's playbooks [inbox-placeholder]",
        f"inbox.yaml:{at['clearance: [head_of_press, press_chief]']}:32: error: nobody of the "
        "office holds the role `press_chief` [inbox-clearance]",
        f"inbox.yaml:{at['incident:']}:7: warning: the template `incident` has no text in kaa, "
        "uz [inbox-template-language]",
        f"inbox.yaml:{costs}:20: error: a `$` here starts no placeholder [inbox-template]",
    ]
    for finding in expected:
        assert finding in out, out


def test_a_register_whose_template_cannot_render_is_refused_by_every_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = ANSWERS.replace("  rumour:\n    templates: {}\n", "")
    monkeypatch.setenv("CRISISCOMM_INBOX", str(write_register(tmp_path, bad)))
    monkeypatch.setenv("CRISISCOMM_DB", str(tmp_path / "inbox.db"))
    assert main(["inbox", "list"]) == 1
    err = capsys.readouterr().err
    assert "inbox.yaml:" in err and "a `$` here starts no placeholder" in err
    assert "run `crisiscomm validate" in err


def test_the_clearance_the_shipped_file_offers_holds_in_the_example_office(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = cleared_register(tmp_path)
    office = (REPO / "office.yaml").read_text(encoding="utf-8")
    (path.parent / "office.yaml").write_text(office, encoding="utf-8")
    assert main(["validate", "--strict", str(path)]) == 0, capsys.readouterr().out


def test_the_shipped_templates_are_whole() -> None:
    """Every shipped template in the four languages, Uzbek with its own apostrophes."""
    from crisiscomm.inbox.register import compiled_register

    register = compiled_register(REPO / "inbox.yaml")
    assert register.answers.keys() == {"media_query", "question", "post"}
    clearances = {kind: rules.clearance for kind, rules in register.answers.items()}
    assert clearances == {"media_query": ("head_of_press",), "question": (), "post": ()}
    for kind in ("media_query", "question", "post"):
        for name, texts in register.answer_rules(kind).templates.items():
            assert sorted(texts) == ["en", "kaa", "ru", "uz"], (kind, name)
            assert "'" not in texts["uz"] and "‘" not in texts["uz"], (kind, name)


def test_every_register_command_acts_in_ones_own_name_where_the_office_says_so(
    cli: Run, store: Store, incident: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not only approvals: registering, assigning, answering, linking, a post's reach and
    erasure follow the office's acting_for rule, and the record keeps who typed it."""
    item = add(cli, "question", "ru", incident)
    assert cli("inbox", "assign", item, "qjumaniyazov", "--as", "qjumaniyazov")[0] == 0
    assigned = store.inbox_events(item)[-1]
    assert assigned.actor == "qjumaniyazov" and assigned.data["entered_by"] == store.identity()
    post = add(cli, "post", "ru")  # not linked yet
    for step in (("inbox", "reach", post, "500"), ("inbox", "link", post, incident)):
        code, _out, err = cli(*step, "--as", "qjumaniyazov")
        assert code == 0, err
        done = store.inbox_events(post)[-1]
        assert (done.actor, done.data["entered_by"]) == ("qjumaniyazov", store.identity())
    strict = (REPO / "office.yaml").read_text(encoding="utf-8")
    strict = strict.replace("  acting_for: allowed\n", "  acting_for: refused\n")
    (tmp_path / "office.yaml").write_text(strict, encoding="utf-8")
    monkeypatch.setenv("CRISISCOMM_OFFICE", str(tmp_path / "office.yaml"))
    before = events(store, item)
    for args in (
        ("inbox", "answer", item, "--answer", "Вода безопасна."),
        ("inbox", "close", item),
        ("inbox", "link", item, incident),
        ("inbox", "erase", item, "--reason", "asked"),
    ):
        code, out, err = cli(*args, "--as", "qjumaniyazov")
        assert (code, out) == (1, ""), args
        assert "the office does not let anyone act for someone else" in err, args
    assert events(store, item) == before
