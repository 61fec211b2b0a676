"""The office's gazetteer: places with a name per language, checked at file:line, laid over
every playbook of the office, and the lint rules of facts that name them."""

from __future__ import annotations

from pathlib import Path

import pytest

from crisiscomm.cli import main
from crisiscomm.playbook.compile import compile_playbook

OFFICE = """\
crisiscomm-office: 1
id: nukus-press
name: {kaa: Nókis baspasóz xızmeti, ru: Пресс-служба Нукуса}
timezone: Asia/Tashkent
languages: [kaa, ru]
people:
  aziz: {name: Aziz Karimov, logins: [aziz]}
  dilnoza: {name: Dilnoza Yusupova, logins: [dilnoza]}
roles:
  duty_officer: {title: Duty press officer, members: [aziz]}
  head_of_press: {title: Head of press, members: [dilnoza]}
gazetteer:
  districts:
    qongirat: {kaa: Qońırat, ru: Кунград, aliases: [Kungrad]}
    beruniy: {kaa: Beruniy, ru: Беруни}
"""

PLAYBOOK = """\
crisiscomm: 1
id: river
title: River
timezone: Asia/Tashkent
languages: [kaa, ru]
facts:
  district: {type: place, gazetteer: districts, required: true}
  evacuation: {type: boolean}
initial: open
states:
  open: {phase: initial, owner: duty_officer, deadline: 1h, cadence: 2h}
  closed: {phase: closed, final: true}
transitions:
  - {trigger: close, from: open, to: closed}
statements:
  holding:
    kind: holding
    author: duty_officer
    clearance: [head_of_press]
    channels: [console]
    text:
      kaa: "$district rayonı. Evakuaciya: $evacuation. Keyingi: $next_update_at."
      ru: "Район $district. Эвакуация: $evacuation. Следующее: $next_update_at."
channels:
  console: {type: console}
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """office.yaml beside playbooks/river.yaml."""
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "office.yaml").write_text(OFFICE, encoding="utf-8")
    (tmp_path / "playbooks" / "river.yaml").write_text(PLAYBOOK, encoding="utf-8")
    return tmp_path


def validate(capsys: pytest.CaptureFixture[str], *paths: Path) -> tuple[int, str]:
    code = main(["validate", "--strict", "--no-color", *map(str, paths)])
    return code, capsys.readouterr().out


def test_a_playbook_takes_the_office_s_gazetteer(repo: Path) -> None:
    playbook = compile_playbook(repo / "playbooks" / "river.yaml")
    assert playbook.gazetteer["districts"]["qongirat"]["ru"] == "Кунград"


def test_a_playbook_s_own_list_wins_over_the_office_s(repo: Path) -> None:
    river = repo / "playbooks" / "river.yaml"
    river.write_text(
        PLAYBOOK + "gazetteer:\n  districts:\n    nukus: {kaa: Nókis, ru: Нукус}\n",
        encoding="utf-8",
    )
    assert list(compile_playbook(river).gazetteer["districts"]) == ["nukus"]


def test_the_shipped_office_and_playbooks_are_clean(capsys: pytest.CaptureFixture[str]) -> None:
    root = Path(__file__).resolve().parents[1]
    code, out = validate(capsys, root / "office.yaml", root / "playbooks")
    assert code == 0, out


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("    beruniy: {kaa: Beruniy, ru: Беруни}", "    beruniy: {kaa: Beruniy}"),
            "office.yaml:15:14: error: `beruniy` of `districts` has no name in: ru "
            "[office-gazetteer]",
        ),
        (
            ("    beruniy: {kaa: Beruniy, ru: Беруни}", "    beruniy: {kaa: Beruniy, ru: Кунград}"),
            "office.yaml:15:33: error: `Кунград` means both qongirat and beruniy in "
            "`districts` [office-gazetteer]",
        ),
        (
            (
                "    beruniy: {kaa: Beruniy, ru: Беруни}",
                "    beruniy: {kaa: Beruniy, ru: Беруни, uz: Beruniy}",
            ),
            "office.yaml:15:45: error: `uz` is not one of the office's languages "
            "[office-gazetteer]",
        ),
        (
            ("aliases: [Kungrad]", "aliases: Kungrad"),
            "office.yaml:14:52: error: gazetteer.districts.qongirat.aliases must be a list",
        ),
        (
            ("    beruniy: {kaa: Beruniy, ru: Беруни}", "    Beruniy: {kaa: Beruniy, ru: Беруни}"),
            "office.yaml:15:5: error: gazetteer.districts: 'Beruniy' is not a valid name",
        ),
        (
            (
                "    beruniy: {kaa: Beruniy, ru: Беруни}",
                "    beruniy: {kaa: Beruniy, russian: Беруни}",
            ),
            "office.yaml:15:29: error: unknown key `russian` in gazetteer.districts.beruniy",
        ),
    ],
)
def test_the_gazetteer_is_checked_at_file_line(
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    change: tuple[str, str],
    expected: str,
) -> None:
    office = repo / "office.yaml"
    office.write_text(OFFICE.replace(*change), encoding="utf-8")
    code, out = validate(capsys, office)
    assert code == 1
    assert expected in out, out


def test_schema_errors_of_the_gazetteer_say_what_is_wrong(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    office = repo / "office.yaml"
    office.write_text(
        OFFICE.replace("aliases: [Kungrad]", "aliases: Kungrad").replace(
            "    beruniy: {kaa: Beruniy, ru: Беруни}", "    Beruniy: {kaa: Beruniy, ru: Беруни}"
        ),
        encoding="utf-8",
    )
    code, out = validate(capsys, office)
    assert code == 1
    lines = [line for line in out.splitlines() if "[office-schema]" in line]
    assert len(lines) == 2, out
    assert lines[0].startswith("office.yaml:14:52: error: ") and "must be a list" in lines[0]
    assert lines[1].startswith("office.yaml:15:5: error: ") and "Beruniy" in lines[1]


def test_a_place_fact_of_a_list_nobody_has(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    river = repo / "playbooks" / "river.yaml"
    river.write_text(PLAYBOOK.replace("gazetteer: districts", "gazetteer: rayons"), "utf-8")
    code, out = validate(capsys, river)
    assert code == 1
    assert (
        "playbooks/river.yaml:7:38: error: fact `district` takes its places from `rayons`, "
        "which is no gazetteer list [unknown-gazetteer]"
    ) in out
    assert "hint: gazetteer lists: districts" in out


def test_a_text_naming_a_place_without_a_name_in_its_language(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "office.yaml").write_text(
        OFFICE.replace("languages: [kaa, ru]", "languages: [kaa, ru, en]")
        .replace("ru: Кунград,", "ru: Кунград, en: Kungrad,")
        .replace("ru: Беруни}", "ru: Беруни, en: Beruniy}"),
        encoding="utf-8",
    )
    river = repo / "playbooks" / "river.yaml"
    river.write_text(
        PLAYBOOK.replace("languages: [kaa, ru]", "languages: [kaa, ru, kk]").replace(
            '      ru: "Район',
            '      kk: "$district audanı. Evakuaciya: $evacuation. Kelesi: $next_update_at."\n'
            '      ru: "Район',
        ),
        "utf-8",
    )
    code, out = validate(capsys, river)
    assert code == 1
    assert (
        "playbooks/river.yaml:23:12: error: `$district` has no kk name for qongirat, beruniy "
        "(gazetteer list `districts`) [fact-language]"
    ) in out
    assert "hint: give each place of `districts` a `kk:` name (from office.yaml:14)" in out
    assert (
        "playbooks/river.yaml:23:42: error: `$evacuation` has no kk words for yes and no "
        "[fact-language]"
    ) in out
    # with words of its own for kk, the boolean is fine
    river.write_text(
        river.read_text("utf-8").replace(
            "evacuation: {type: boolean}", "evacuation: {type: boolean, words: {kk: [iá, joq]}}"
        ),
        "utf-8",
    )
    code, out = validate(capsys, river)
    assert "has no kk words" not in out and "has no kk name" in out
