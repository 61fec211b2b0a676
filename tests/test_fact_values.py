"""Values inside statements (issue 16): facts typed as officers type them, places from the
gazetteer named in each text's own language, texts given per language, and the refusals
an officer reads when a value does not fit."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from crisiscomm.cli import main
from crisiscomm.clock import SimulatedClock
from crisiscomm.engine import service
from crisiscomm.engine.context import template_values
from crisiscomm.engine.facts import fact_display
from crisiscomm.errors import RefusedError, UsageError
from crisiscomm.store import Store

NBSP, NNBSP = "\u00a0", "\u202f"
START = datetime(2027, 4, 12, 12, 40, tzinfo=UTC)  # 17:40 in Tashkent

PLAYBOOK = """\
crisiscomm: 1
id: river
title: River
timezone: Asia/Tashkent
languages: [kaa, uz, ru, en]
roles:
  duty_officer: {title: Duty press officer, members: [{name: Aziz Karimov, login: aziz}]}
  head_of_press: {title: Head of press, members: [{name: Dilnoza Yusupova, login: dilnoza}]}
channels:
  console: {type: console}
gazetteer:
  districts:
    qongirat: {kaa: Qońırat, uz: Qoʻngʻirot, ru: Кунград, en: Kungrad, aliases: [Kungirot]}
    beruniy: {kaa: Beruniy, uz: Beruniy, ru: Беруни, en: Beruniy}
    nukus: {kaa: Nókis, uz: Nukus, ru: Нукус, en: Nukus}
    nukus_city: {kaa: Nókis qalası, uz: Nukus shahri, ru: город Нукус, en: Nukus city}
facts:
  district: {type: place, gazetteer: districts, required: true}
  area: {type: string}
  level_m: {type: number}
  evacuated: {type: integer, minimum: 0}
  evacuation: {type: boolean}
  curfew: {type: boolean, words: {ru: [введён, не введён]}}
  occurred_at: {type: datetime}
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
      kaa: "$district rayonı: $area. Suw: $level_m m. Kóshirilgen: $evacuated. Evakuaciya: $evacuation. Waqıt: $occurred_at. Keyingi: $next_update_at."
      uz: "$district tumani: $area. Suv: $level_m m. Koʻchirilgan: $evacuated. Evakuatsiya: $evacuation. Vaqt: $occurred_at. Keyingi: $next_update_at."
      ru: "Район $district: $area. Уровень: $level_m м. Эвакуировано: $evacuated. Эвакуация объявлена: $evacuation. Время: $occurred_at. Следующее: $next_update_at."
      en: "$district district: $area. Level: $level_m m. Evacuated: $evacuated. Evacuation ordered: $evacuation. Time: $occurred_at. Next: $next_update_at."
  curfew_notice:
    kind: update
    author: duty_officer
    clearance: [head_of_press]
    channels: [console]
    text:
      kaa: "Kómendantlıq saat: $curfew."
      uz: "Komendantlik soati: $curfew."
      ru: "Комендантский час $curfew."
      en: "Curfew: $curfew."
"""

FULL = [
    "district=Kungrad",
    "area=Qaraqum",
    "level_m=4,12",
    "evacuated=1 200",
    "evacuation=да",
    "occurred_at=17:10",
]


@pytest.fixture
def river(tmp_path: Path) -> str:
    path = tmp_path / "river.yaml"
    path.write_text(PLAYBOOK, encoding="utf-8")
    return str(path)


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(START)


def open_river(store: Store, clock: SimulatedClock, river: str, facts: list[str]) -> str:
    return service.open_incident(
        store=store,
        clock=clock,
        playbook_ref=river,
        title="High water",
        severity=None,
        facts=facts,
        actor="aziz",
    ).id


def draft(store: Store, clock: SimulatedClock, incident_id: str, name: str = "holding") -> dict:
    service.draft_statement(
        store=store, clock=clock, incident_id=incident_id, statement=name, actor="aziz"
    )
    _playbook, incident = service.load(store=store, incident_id=incident_id)
    return dict(incident.data["statements"][name]["versions"][-1]["texts"])


def test_each_text_writes_the_values_as_its_language_does(
    store: Store, clock: SimulatedClock, river: str
) -> None:
    incident_id = open_river(store, clock, river, FULL)
    texts = draft(store, clock, incident_id)
    assert texts["kaa"] == (
        f"Qońırat rayonı: Qaraqum. Suw: 4,12 m. Kóshirilgen: 1{NBSP}200. Evakuaciya: awa. "
        "Waqıt: 2027-jıl 12-aprel, 17:10. Keyingi: 2027-jıl 12-aprel, 19:40."
    )
    assert texts["uz"] == (
        f"Qoʻngʻirot tumani: Qaraqum. Suv: 4,12 m. Koʻchirilgan: 1{NBSP}200. Evakuatsiya: ha. "
        "Vaqt: 2027-yil 12-aprel, 17:10. Keyingi: 2027-yil 12-aprel, 19:40."
    )
    assert texts["ru"] == (
        f"Район Кунград: Qaraqum. Уровень: 4,12 м. Эвакуировано: 1{NBSP}200. "
        f"Эвакуация объявлена: да. Время: 12 апреля 2027{NNBSP}г., 17:10. "
        f"Следующее: 12 апреля 2027{NNBSP}г., 19:40."
    )
    assert texts["en"] == (
        "Kungrad district: Qaraqum. Level: 4.12 m. Evacuated: 1,200. Evacuation ordered: yes. "
        f"Time: April 12, 2027, 5:10{NNBSP}PM. Next: April 12, 2027, 7:40{NNBSP}PM."
    )


def test_a_fact_s_own_words_for_yes_and_no(store: Store, clock: SimulatedClock, river: str) -> None:
    incident_id = open_river(store, clock, river, ["district=beruniy", "curfew=не введён"])
    texts = draft(store, clock, incident_id, "curfew_notice")
    assert texts == {
        "kaa": "Kómendantlıq saat: yaq.",
        "uz": "Komendantlik soati: yoʻq.",
        "ru": "Комендантский час не введён.",
        "en": "Curfew: no.",
    }


@pytest.mark.parametrize(
    "typed", ["qongirat", "Kungrad", "Qoʻngʻirot", "Qo'ng'irot", "qongirot", "КУНГРАД", "Qonirat"]
)
def test_a_place_is_its_id_or_any_of_its_names(
    store: Store, clock: SimulatedClock, river: str, typed: str
) -> None:
    incident_id = open_river(store, clock, river, [f"district={typed}"])
    _playbook, incident = service.load(store=store, incident_id=incident_id)
    assert incident.data["facts"]["district"] == "qongirat"  # the record keeps the id


def test_a_city_and_the_district_of_its_name_are_two_places(
    store: Store, clock: SimulatedClock, river: str
) -> None:
    district = open_river(store, clock, river, ["district=Nukus"])
    city = open_river(store, clock, river, ["district=Nukus city"])
    facts = [service.load(store=store, incident_id=i)[1].data["facts"] for i in (district, city)]
    assert [f["district"] for f in facts] == ["nukus", "nukus_city"]


@pytest.mark.parametrize(
    ("fact", "message", "hint"),
    [
        (
            "district=Kungirad",
            "fact `district` must be a place of the list `districts`; `Kungirad` is not",
            "did you mean qongirat (Qońırat, Qoʻngʻirot, Кунград, Kungrad)?",
        ),
        (
            "district=Moscow",
            "fact `district` must be a place of the list `districts`; `Moscow` is not",
            "districts: qongirat, beruniy, nukus, nukus_city",
        ),
        (
            "evacuation=maybe",
            "fact `evacuation` must be yes or no; `maybe` is not",
            "e.g. evacuation=yes",
        ),
        (
            "level_m=4,1,2",
            "fact `level_m` must be a number; `4,1,2` is not: it has more than one decimal mark",
            "e.g. level_m=4,12",
        ),
        (
            "level_m=12.04.2027",
            "fact `level_m` must be a number; `12.04.2027` is not: it looks like a date",
            "e.g. level_m=4,12",
        ),
        (
            "evacuated=12,5",
            "fact `evacuated` must be a whole number; `12,5` is not: it has a decimal part",
            "e.g. evacuated=120",
        ),
        (
            "evacuated=-1 200",
            "fact `evacuated` must be at least 0; `-1 200` is not",
            "e.g. evacuated=120",
        ),
        (
            "occurred_at=31.02.2027 10:00",
            "fact `occurred_at` must be a date and time (12.04.2027 17:40); "
            "`31.02.2027 10:00` is not: month 02 of 2027 has 28 days",
            "e.g. occurred_at=12.04.2027 17:40",
        ),
        (
            "occurred_at=12.04.2027",
            "fact `occurred_at` must be a date and time (12.04.2027 17:40); "
            "`12.04.2027` is not: give the time too, e.g. 12.04.2027 17:40",
            "e.g. occurred_at=12.04.2027 17:40",
        ),
        (
            "district.ru=Кунград",
            "fact `district` has one value in every language",
            "give it without a language: district=...",
        ),
        (
            "area.de=Karakum",
            "`de` is not a language of playbook river",
            "languages: kaa, uz, ru, en",
        ),
        ("depth.ru=3", "`depth` is not a fact of playbook river", None),
    ],
)
def test_a_value_that_does_not_fit_is_refused_saying_why(
    store: Store, clock: SimulatedClock, river: str, fact: str, message: str, hint: str | None
) -> None:
    facts = [fact] if fact.startswith("district") else ["district=beruniy", fact]
    with pytest.raises(UsageError) as caught:
        open_river(store, clock, river, facts)
    assert caught.value.message == message
    if hint is not None:
        assert caught.value.hint == hint


def test_the_cli_refuses_a_bad_value_with_exit_2(
    tmp_path: Path, river: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "cli.db")
    args = ["open-incident", river, "--title", "T", "--fact", "district=Kungirad"]
    code = main([*args, "--db", db, "--as", "aziz"])
    assert code == 2
    err = capsys.readouterr().err
    assert "fact `district` must be a place of the list `districts`; `Kungirad` is not" in err
    assert "did you mean qongirat (Qońırat, Qoʻngʻirot, Кунград, Kungrad)?" in err
    assert "Traceback" not in err


def test_a_text_given_per_language(store: Store, clock: SimulatedClock, river: str) -> None:
    facts = [f for f in FULL if not f.startswith("area")]
    incident_id = open_river(store, clock, river, [*facts, "area.ru=махалля Каракум"])
    with pytest.raises(RefusedError) as caught:
        draft(store, clock, incident_id)
    assert caught.value.message == (
        "statement `holding` needs $area (kaa, uz, en), which have no value yet"
    )
    assert caught.value.hint == "; ".join(
        f"crisiscomm set {incident_id} area.{lang}=..." for lang in ("kaa", "uz", "en")
    )
    service.set_facts(
        store=store,
        clock=clock,
        incident_id=incident_id,
        assignments=["area.kaa=Qaraqum mákanı", "area.uz=Qoraqum mahallasi", "area.en=Karakum"],
        actor="aziz",
    )
    texts = draft(store, clock, incident_id)
    assert texts["kaa"].startswith("Qońırat rayonı: Qaraqum mákanı.")
    assert texts["uz"].startswith("Qoʻngʻirot tumani: Qoraqum mahallasi.")
    assert texts["ru"].startswith("Район Кунград: махалля Каракум.")
    assert texts["en"].startswith("Kungrad district: Karakum.")


def test_one_language_s_text_joins_a_value_for_all_and_a_plain_value_replaces_them(
    store: Store, clock: SimulatedClock, river: str
) -> None:
    incident_id = open_river(store, clock, river, ["district=beruniy", "area=Qaraqum"])

    def set_and_read(assignment: str) -> object:
        service.set_facts(
            store=store, clock=clock, incident_id=incident_id, assignments=[assignment], actor="a"
        )
        return service.load(store=store, incident_id=incident_id)[1].data["facts"]["area"]

    assert set_and_read("area.ru=Каракум") == {
        "kaa": "Qaraqum",
        "uz": "Qaraqum",
        "ru": "Каракум",
        "en": "Qaraqum",
    }
    assert set_and_read("area=Jayxun") == "Jayxun"


def test_an_officer_s_screen_shows_a_value_per_language_where_it_differs(
    store: Store, clock: SimulatedClock, river: str
) -> None:
    incident_id = open_river(store, clock, river, ["district=qongirat", "area.ru=Каракум"])
    playbook, incident = service.load(store=store, incident_id=incident_id)
    facts = incident.data["facts"]
    assert fact_display(playbook, "district", facts["district"], "ru") == "Кунград"
    assert fact_display(playbook, "area", facts["area"], "ru") == "Каракум"
    assert fact_display(playbook, "area", facts["area"], "en") == "ru: Каракум"


def test_a_notification_takes_another_language_s_value_rather_than_none(
    store: Store, clock: SimulatedClock, river: str
) -> None:
    incident_id = open_river(store, clock, river, ["district=qongirat", "area.ru=Каракум"])
    playbook, incident = service.load(store=store, incident_id=incident_id)
    notice = template_values(playbook, incident, clock.now())  # the interface language: en
    assert (notice["district"], notice["area"]) == ("Kungrad", "Каракум")
    assert notice["now"] == "12.04.2027 17:40"  # an officer's notice: times stay short
    statement = template_values(playbook, incident, clock.now(), "en")
    assert "area" not in statement  # a statement in English has no English text for it


def test_the_example_office_names_every_district_in_every_language(tmp_path: Path) -> None:
    from crisiscomm.documents.library import Library
    from crisiscomm.office.find import office_for

    repo = Path(__file__).resolve().parents[1]
    office = Library().load(office_for(repo / "playbooks" / "flood.yaml"))  # type: ignore[arg-type]
    districts = office["gazetteer"]["districts"]
    assert len(districts) == 17  # sixteen districts and the capital
    assert districts["qongirat"] == {
        "kaa": "Qońırat",
        "uz": "Qo\u02bbng\u02bbirot",
        "ru": "Кунград",
        "en": "Kungrad",
        "aliases": ["Kungirot"],
    }
    for place, names in districts.items():
        assert set(names) - {"aliases"} == {"kaa", "uz", "ru", "en"}, place
        assert "'" not in names["uz"] and "‘" not in names["uz"], place  # ʻ U+02BB only
        assert all("\u0400" <= c <= "\u04ff" for c in names["ru"] if c.isalpha()), place
        assert not any("\u0400" <= c <= "\u04ff" for c in names["kaa"] + names["en"]), place


def test_a_name_two_places_share_is_refused_naming_both() -> None:
    """Looked up in the playbook's index of place names: a name of two places (a list
    `validate` would refuse, pinned before the rule) is neither, and says which it names."""
    from crisiscomm.engine.facts import parse_fact
    from crisiscomm.playbook.model import Playbook

    playbook = Playbook.from_content(
        {
            "id": "twins",
            "facts": {"district": {"type": "place", "gazetteer": "districts"}},
            "gazetteer": {
                "districts": {
                    "east": {"en": "Eastfield", "aliases": ["Twin"]},
                    "west": {"en": "Westfield", "uz": "Twin"},
                    "north": {"en": "Northfield"},
                }
            },
        }
    )
    assert parse_fact(playbook, "district", "WESTFIELD") == "west"
    assert parse_fact(playbook, "district", "north") == "north"
    with pytest.raises(UsageError) as refused:
        parse_fact(playbook, "district", "twin")
    assert refused.value.message == (
        "fact `district` must be a place of the list `districts`; `twin` is not: "
        "it names east, west"
    )
