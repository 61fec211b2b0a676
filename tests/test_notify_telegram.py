"""The `telegram` channel against a real HTTP server on 127.0.0.1 speaking enough of the Bot
API: statements in four languages split at Telegram's limit and kept in order, 429 with
`retry_after`, refusals that make dead letters, a hanging server, a delivering process
killed between two parts, and the bot token kept out of every error, row and log line."""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from crisiscomm.clock import SimulatedClock, format_utc
from crisiscomm.engine import service
from crisiscomm.notify import ChannelFactory, DeliveryError, check_channels, deliver_due
from crisiscomm.notify.outbox import DEFAULT_LEASE
from crisiscomm.notify.telegram import MESSAGE_LIMIT, TelegramChannel, messages, split_text
from crisiscomm.store import Store, open_store
from crisiscomm.store.rows import OutboxRow
from crisiscomm.validation import check_paths
from tests.conftest_store import (  # noqa: F401 (fixtures, used by name)
    pg_admin_fixture,
    target_fixture,
)

from .conftest import FIXTURES, REPO, START, confirm, release_holding

TOKEN = "7012345678:AAF-tz9kQ4mN7pL2xR8vW3bY6cD1eG5hJ0k"  # what the tests' bot "has"


# -- a Bot API on 127.0.0.1 -------------------------------------------------------------------


@dataclass
class Request:
    """One request the Bot API server got."""

    path: str
    body: dict[str, Any]


@dataclass
class BotApi:
    """A real HTTP server answering `sendMessage` like Telegram: 200 with a message id, or
    what `answer` says for a request (its number from 1): (status, JSON) or "hang"."""

    answer: Callable[[int, dict[str, Any]], tuple[int, dict[str, Any]] | str | None] = (
        lambda number, body: None
    )
    requests: list[Request] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)
    hanging: threading.Event = field(default_factory=threading.Event)  # a request is held

    def __post_init__(self) -> None:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length).decode("utf-8"))
                api.requests.append(Request(self.path, body))
                number = len(api.requests)
                scripted = api.answer(number, body)
                if scripted == "hang":
                    api.hanging.set()
                    api.released.wait(30)
                    return
                if isinstance(scripted, tuple):
                    status, answer = scripted
                else:
                    status, answer = 200, {"ok": True, "result": {"message_id": 1000 + number}}
                data = json.dumps(answer).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    def texts(self) -> list[str]:
        return [r.body["text"] for r in self.requests]


@pytest.fixture(name="api")
def api_fixture() -> Iterator[BotApi]:
    api = BotApi()
    yield api
    api.close()


def refusal(code: int, description: str, **parameters: Any) -> tuple[int, dict[str, Any]]:
    answer: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        answer["parameters"] = parameters
    return code, answer


# -- a playbook with a telegram channel ---------------------------------------------------------

LANGUAGES = ("kaa", "uz", "ru", "en")
WORDS = {
    "kaa": "Suw tasqını Nókis aymaǵında qáwip joq xalıq tınısh",
    "uz": "Suv toshqini Nukus tumanida xavf yoʻq aholi xotirjam",
    "ru": "Паводок в Нукусском районе угрозы нет жители спокойны",
    "en": "Flood in the Nukus district no danger residents calm",
}


def long_text(language: str, paragraphs: int) -> str:
    """A statement text of `paragraphs` paragraphs of ~1,500 characters, each numbered."""
    words = WORDS[language].split()
    body = []
    for number in range(1, paragraphs + 1):
        sentence = " ".join(words[i % len(words)] for i in range(230))
        body.append(f"{language.upper()}-{number}. {sentence}.")
    return "\n\n".join(body) + " $next_update_at"


TEXTS = {"kaa": long_text("kaa", 4), "uz": long_text("uz", 3), "ru": long_text("ru", 5)}
TEXTS["en"] = "Flood in the Nukus district. Next update: $next_update_at."
UPDATE = {code: f"$region {code}: next update $next_update_at." for code in LANGUAGES}


def playbook_text(*, chat: str = '"@nukus_press"', languages: str = "", notify: str = "") -> str:
    texts = "\n".join(
        f"      {code}: {json.dumps(TEXTS[code], ensure_ascii=False)}" for code in TEXTS
    )
    update = "\n".join(f"      {code}: {json.dumps(text)}" for code, text in UPDATE.items())
    return f"""\
crisiscomm: 1
id: tgpress
title: Telegram test playbook
timezone: Asia/Tashkent
languages: [kaa, uz, ru, en]
roles:
  duty_officer:
    title: Duty press officer
    members: [{{name: Aziz Karimov, login: aziz, telegram: "100200300"}}]
  head_of_press:
    title: Head of press
    members: [{{name: Dilnoza Yusupova, login: dilnoza, telegram: dilnoza_press}}]
  legal:
    title: Legal
    members: [{{name: Rustam Aliev, login: rustam, telegram: "-100400500"}}]
channels:
  console: {{type: console}}
  tg:
    type: telegram
    description: The hokimiyat's public channel and the officers' chats.
    token: "${{TG_TEST_TOKEN}}"
    chat: {chat}
    api_url: "${{TG_TEST_API}}"
    timeout: 2s{languages}
facts:
  region: {{type: string, required: true}}
initial: detection
states:
  detection:
    phase: initial
    owner: duty_officer
    deadline: 20m
    checklist:
      - {{id: log_source, text: Record the source}}
    on_enter:
      - {{action: notify, notify: [duty_officer, head_of_press, legal], channels: [{notify}], message: "New incident $incident_id in $region"}}
  statement:
    phase: initial
    owner: duty_officer
    deadline: 40m
  follow_up:
    phase: maintenance
    owner: head_of_press
    deadline: 1d
    cadence: {{every: 2h, statement: update}}
  closed:
    phase: closed
    final: true
transitions:
  - {{trigger: confirm, from: detection, to: statement, guards: {{checklist: complete}}}}
  - {{trigger: publish, from: statement, to: follow_up, guards: {{released: [holding]}}}}
  - {{trigger: close, from: follow_up, to: closed}}
statements:
  holding:
    kind: holding
    author: duty_officer
    clearance: [head_of_press, legal]
    channels: [tg]
    text:
{texts}
  update:
    kind: update
    author: duty_officer
    clearance: [head_of_press]
    channels: [console]
    text:
{update}
"""


@pytest.fixture(autouse=True)
def _bot_env(monkeypatch: pytest.MonkeyPatch, api: BotApi) -> None:
    monkeypatch.setenv("TG_TEST_TOKEN", TOKEN)
    monkeypatch.setenv("TG_TEST_API", api.url)


def open_incident(store: Store, clock: SimulatedClock, tmp_path: Path, **options: str) -> str:
    path = tmp_path / "tgpress.yaml"
    path.write_text(playbook_text(**({"notify": "console"} | options)), encoding="utf-8")
    return service.open_incident(
        store=store,
        clock=clock,
        playbook_ref=str(path),
        title="Flood",
        severity=None,
        facts=["region=Nukus"],
        actor="aziz",
    ).id


def released(store: Store, clock: SimulatedClock, tmp_path: Path, **options: str) -> str:
    """An incident whose holding statement is released (its rows in the outbox)."""
    incident_id = open_incident(store, clock, tmp_path, **options)
    confirm(store, clock, incident_id)
    release_holding(store, clock, incident_id)
    return incident_id


def deliver(store: Store, clock: SimulatedClock, **options: Any) -> Any:
    return deliver_due(store, now=clock.now(), rng=random.Random(7), **options)


def telegram_rows(store: Store) -> list[OutboxRow]:
    found = store.list_outbox(statuses=("pending", "sent", "dead"))
    return sorted((r for r in found if r.channel == "tg"), key=lambda r: r.id)


def expected_parts(store: Store) -> list[tuple[str, str]]:
    """(language, text) of every message the statement makes, as Telegram must get them:
    its texts as released, each split by itself, the playbook's languages in order."""
    [row] = telegram_rows(store)
    texts = row.payload["texts"]
    assert "$" not in "".join(texts.values())  # rendered
    return [(code, part) for code in LANGUAGES for part in split_text(texts[code])]


# -- splitting ---------------------------------------------------------------------------------


def test_a_long_text_is_split_between_paragraphs_then_words_never_inside_one() -> None:
    text = long_text("ru", 5) + "\n" + " ".join(["слово"] * 1200)
    parts = split_text(text)
    assert len(parts) > 2
    assert all(len(part.encode("utf-16-le")) // 2 <= MESSAGE_LIMIT for part in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())  # nothing lost, in order
    assert parts[0].endswith(".") and parts[1].startswith("RU-3.")  # at a paragraph
    words = set(text.split())
    assert all(set(part.split()) <= words for part in parts)  # no word cut in two


def test_the_limit_counts_what_telegram_counts_and_only_a_giant_word_is_cut() -> None:
    emoji = "🌊" * 3000  # 6,000 UTF-16 units: Telegram counts each wave twice
    parts = split_text(f"Suw {emoji} tasqını", limit=MESSAGE_LIMIT)
    assert [len(p.encode("utf-16-le")) // 2 for p in parts] == [3, 4096, 1904 + 8]
    assert parts[1] + parts[2] == emoji + " tasqını"  # the word's rest goes on with the text
    assert split_text("  \n\n ") == []
    assert split_text("short") == ["short"]


def test_a_statement_row_makes_one_message_per_language_in_the_chosen_order() -> None:
    texts = {"en": "English", "kaa": "Qaraqalpaqsha", "ru": "Русский"}
    row = OutboxRow(
        1, "I-1", "k", "tg", "public",
        {"kind": "statement", "texts": texts, "text": "Qaraqalpaqsha\n\nРусский\n\nEnglish"},
        "pending", 1, START, START, None, None,
    )  # fmt: skip
    assert messages(row) == [("kaa:1", "Qaraqalpaqsha"), ("ru:1", "Русский"), ("en:1", "English")]
    assert messages(row, ["ru", "en"]) == [("ru:1", "Русский"), ("en:1", "English")]


# -- delivery end to end -----------------------------------------------------------------------


def test_a_statement_goes_out_in_four_languages_split_and_in_order(
    store: Store, clock: SimulatedClock, tmp_path: Path, api: BotApi
) -> None:
    released(store, clock, tmp_path)
    report = deliver(store, clock)
    assert (report.sent, report.retried, report.dead) == (2, 0, 0)  # and the console's
    got = [(r.body["chat_id"], r.body["text"]) for r in api.requests]
    want = expected_parts(store)
    assert len(want) == 2 + 2 + 3 + 1  # the texts really need splitting
    assert [chat for chat, _text in got] == ["@nukus_press"] * len(want)
    assert [text for _chat, text in got] == [text for _code, text in want]
    assert all("parse_mode" not in r.body for r in api.requests)  # plain text, no markup
    assert {r.path for r in api.requests} == {f"/bot{TOKEN}/sendMessage"}
    [row] = telegram_rows(store)
    assert row.status == "sent"
    assert set(row.payload["delivered"]) == {
        "kaa:1", "kaa:2", "uz:1", "uz:2", "ru:1", "ru:2", "ru:3", "en:1"
    }  # fmt: skip
    assert deliver(store, clock).sent == 0 and len(api.requests) == len(want)


def test_the_channels_language_order_picks_and_orders_the_languages(
    store: Store, clock: SimulatedClock, tmp_path: Path, api: BotApi
) -> None:
    released(store, clock, tmp_path, languages="\n    languages: [ru, kaa]")
    assert deliver(store, clock).sent == 2
    assert [t.split(".")[0] for t in api.texts()] == ["RU-1", "RU-3", "RU-5", "KAA-1", "KAA-3"]


def test_a_429_is_honoured_and_the_retry_sends_only_the_parts_not_yet_accepted(
    store: Store, clock: SimulatedClock, tmp_path: Path, api: BotApi
) -> None:
    api.answer = lambda n, body: (
        refusal(429, "Too Many Requests: retry after 90", retry_after=90) if n == 3 else None
    )
    released(store, clock, tmp_path)
    report = deliver(store, clock)
    assert (report.sent, report.retried, report.dead) == (1, 1, 0)  # the console's went
    [row] = telegram_rows(store)
    assert row.status == "pending"
    assert row.next_attempt_at >= clock.now() + timedelta(seconds=90)  # not the 30s backoff
    assert row.last_error == (
        "channel `tg`: Telegram limits the bot's messages (Too Many Requests: retry after 90); "
        "the rest goes out after 90s"
    )
    assert set(row.payload["delivered"]) == {"kaa:1", "kaa:2"}
    clock.advance(timedelta(seconds=60))
    assert deliver(store, clock).sent == 0 and len(api.requests) == 3  # still waiting
    clock.advance(timedelta(seconds=30))
    assert deliver(store, clock).sent == 1
    texts = api.texts()
    assert texts[:2] + texts[3:] == [text for _code, text in expected_parts(store)]  # each once
    assert texts[2] == texts[3]  # the refused one, again


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (refusal(403, "Forbidden: bot is not a member of the channel chat"), "bot is not a member"),
        (refusal(400, "Bad Request: chat not found"), "Bad Request: chat not found"),
    ],
)
def test_a_refused_statement_is_a_dead_letter_at_once_with_telegrams_reason(
    store: Store,
    clock: SimulatedClock,
    tmp_path: Path,
    api: BotApi,
    answer: tuple[int, dict[str, Any]],
    reason: str,
) -> None:
    api.answer = lambda n, body: answer
    released(store, clock, tmp_path)
    assert deliver(store, clock).dead == 1
    [row] = telegram_rows(store)
    assert (row.status, row.attempts) == ("dead", 1)
    assert row.last_error is not None
    assert row.last_error.startswith("channel `tg`: Telegram refused the message: ")
    assert reason in row.last_error and len(api.requests) == 1


def test_notifications_go_to_each_persons_chat_and_a_block_is_a_dead_letter(
    store: Store, clock: SimulatedClock, tmp_path: Path, api: BotApi
) -> None:
    api.answer = lambda n, body: (
        refusal(403, "Forbidden: bot was blocked by the user")
        if body["chat_id"] == -100400500
        else None
    )
    open_incident(store, clock, tmp_path, notify="console, tg")
    report = deliver(store, clock)
    assert (report.sent, report.dead) == (2, 2)  # console, Aziz; Rustam blocked, Dilnoza ...
    by_recipient = {r.recipient: r for r in telegram_rows(store)}
    assert sorted(by_recipient) == ["-100400500", "100200300", "dilnoza_press"]
    assert by_recipient["100200300"].status == "sent"
    blocked = by_recipient["-100400500"]
    assert blocked.status == "dead"
    assert blocked.last_error == (
        "channel `tg`: Telegram refused the message: Forbidden: bot was blocked by the user"
    )
    named = by_recipient["dilnoza_press"]  # a user name: no bot can write to it
    assert named.status == "dead"
    assert named.last_error == (
        "channel `tg`: `dilnoza_press` is not a Telegram chat id; a bot can write to a person "
        "only by the number of their chat"
    )
    [sent] = [r for r in api.requests if r.body["chat_id"] == 100200300]
    assert sent.body["text"].endswith(": detection\n\nNew incident INC-2026-0001 in Nukus")


def test_a_hanging_api_is_cut_off_at_the_timeout_and_retried(
    store: Store, clock: SimulatedClock, tmp_path: Path, api: BotApi
) -> None:
    api.answer = lambda n, body: "hang"
    released(store, clock, tmp_path)
    began = time.monotonic()
    report = deliver(store, clock)
    assert time.monotonic() - began < 10  # cut off at 2s, not held until the server gives up
    assert (report.sent, report.retried) == (1, 1)  # the console's went
    [row] = telegram_rows(store)
    assert row.status == "pending" and "delivered" not in row.payload
    assert row.last_error == (
        f"channel `tg`: the Telegram API {api.url} is too slow: the messages did not go out "
        "within 2s"
    )


def test_the_token_is_in_no_error_row_or_log_line(
    db: Path,
    store: Store,
    clock: SimulatedClock,
    tmp_path: Path,
    api: BotApi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="crisiscomm")
    answers = iter(
        [
            refusal(500, f"Internal error at /bot{TOKEN}/sendMessage"),
            refusal(429, f"Too Many Requests for {TOKEN}", retry_after=5),
            refusal(401, f"Unauthorized: {TOKEN}"),
            refusal(400, f"Bad Request: chat not found ({TOKEN})"),
        ]
    )
    api.answer = lambda n, body: next(answers)
    released(store, clock, tmp_path)
    errors = []
    for _attempt in range(4):
        clock.advance(timedelta(hours=1))
        deliver(store, clock)
        errors.append(telegram_rows(store)[0].last_error or "")
    assert [e.split(":")[0] for e in errors] == ["channel `tg`"] * 4
    assert "Internal error" not in errors[0] and "answered HTTP 500" in errors[0]
    assert "***" in errors[1] and "***" in errors[2] and "***" in errors[3]
    assert telegram_rows(store)[0].status == "dead"
    try:
        TelegramChannel("tg", token=TOKEN, chat="@nukus_press", api_url="http://127.0.0.1:9").send(
            telegram_rows(store)[0], now=clock.now()
        )
    except DeliveryError as error:
        unreachable = error.message
    assert unreachable.startswith("channel `tg`: cannot reach the Telegram API http://127.0.0.1:9")
    connection = sqlite3.connect(db)
    dump = "\n".join(connection.iterdump())
    connection.close()
    everything = "\n".join([dump, caplog.text, unreachable, *errors])
    assert "is a dead letter" in caplog.text  # the failures were logged ...
    assert TOKEN not in everything and TOKEN.split(":")[1] not in everything  # ... not the token


def test_progress_is_committed_and_fenced_on_sqlite_and_postgresql(
    target: str, clock: SimulatedClock, tmp_path: Path, api: BotApi
) -> None:
    api.answer = lambda n, body: refusal(502, "Bad Gateway") if n == 2 else None
    with open_store(target) as store:
        released(store, clock, tmp_path)
        assert deliver(store, clock).retried == 1
        [row] = telegram_rows(store)
        assert set(row.payload["delivered"]) == {"kaa:1"}
        clock.advance(timedelta(hours=1))
        [taken] = store.take_due_outbox(now=clock.now(), lease_until=clock.now() + DEFAULT_LEASE)
        # a deliverer whose row was taken over records nothing more
        assert not store.record_outbox_progress(row, payload={**row.payload, "delivered": {}})
        assert store.record_outbox_progress(taken, payload=taken.payload)
        clock.advance(DEFAULT_LEASE)
        assert deliver(store, clock).sent == 1
        texts = api.texts()
        assert texts[0] != texts[1] == texts[2]  # kaa:1 once; the refused kaa:2 again
        assert texts[:1] + texts[2:] == [text for _code, text in expected_parts(store)]


def test_a_429_without_retry_after_waits_with_the_usual_backoff(api: BotApi) -> None:
    api.answer = lambda n, body: refusal(429, "Too Many Requests")
    channel = TelegramChannel("tg", token=TOKEN, api_url=api.url)
    row = OutboxRow(
        7, "I-1", "k", "tg", "100200300", {"kind": "reminder", "text": "Xabar"},
        "pending", 1, START, START, None, None,
    )  # fmt: skip
    with pytest.raises(DeliveryError) as raised:
        channel.send(row, now=START)
    assert raised.value.message == (
        "channel `tg`: Telegram limits the bot's messages (Too Many Requests); the rest goes "
        "out later"
    )
    assert raised.value.retry_after is None and raised.value.channel_down
    assert [r.body for r in api.requests] == [{"chat_id": 100200300, "text": "Xabar"}]


# -- a delivering process killed between two parts ---------------------------------------------

DELIVERER = """
import random, sys
from crisiscomm.clock import parse_utc
from crisiscomm.notify import deliver_due
from crisiscomm.store import open_store

with open_store(sys.argv[1]) as store:
    deliver_due(store, now=parse_utc(sys.argv[2]), rng=random.Random(7))
"""


def test_a_deliverer_killed_between_parts_leaves_no_duplicate_of_what_went_out(
    db: Path, store: Store, clock: SimulatedClock, tmp_path: Path, api: BotApi
) -> None:
    api.answer = lambda n, body: "hang" if n == 4 else None
    released(store, clock, tmp_path)
    environ = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-c", DELIVERER, str(db), format_utc(clock.now())], env=environ
    )
    try:
        assert api.hanging.wait(30), "the deliverer never reached the fourth part"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    assert process.returncode == -signal.SIGKILL
    [row] = telegram_rows(store)
    assert row.status == "pending"
    assert set(row.payload["delivered"]) == {"kaa:1", "kaa:2", "uz:1"}  # committed as they went
    api.answer = lambda n, body: None
    assert deliver(store, clock).sent == 0  # leased by the dead process
    clock.advance(DEFAULT_LEASE)
    assert deliver(store, clock).sent == 1
    texts = api.texts()
    want = [text for _code, text in expected_parts(store)]
    assert texts[:3] == want[:3] and texts[4:] == want[3:]  # the first three once only
    assert texts[3] == want[3]  # the unanswered one is sent again: at least once


# -- settings checked before anything is sent ------------------------------------------------


def test_serve_names_a_missing_token_variable_never_a_value() -> None:
    channel = {"type": "telegram", "token": "${TELEGRAM_BOT_TOKEN}", "chat": "@nukus_press"}
    assert check_channels({"tg": channel}, environ={}) == [
        "channel `tg`: the environment variable TELEGRAM_BOT_TOKEN is not set"
    ]
    assert check_channels({"tg": channel}, environ={"TELEGRAM_BOT_TOKEN": TOKEN}) == []


def test_delivery_without_the_token_waits_for_it_and_names_the_variable(
    store: Store, clock: SimulatedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    released(store, clock, tmp_path)
    monkeypatch.delenv("TG_TEST_TOKEN")
    assert deliver(store, clock, channels=ChannelFactory()).retried == 1
    [row] = telegram_rows(store)
    assert row.status == "pending"
    assert row.last_error == (
        "channel `tg`: the environment variable TG_TEST_TOKEN (for `token`) is not set"
    )


def lint(write: Callable[[str, str], Path], channel: str, statement: str = "") -> list[str]:
    write("protocols/base.yaml", (FIXTURES / "good/base.yaml").read_text(encoding="utf-8"))
    text = f"crisiscomm: 1\nid: book\nextends: base\nchannels:\n  tg:\n{channel}{statement}"
    book = write("book.yaml", text)
    return [f"{f.rule}: {f.message}" for f in check_paths([book]).findings]


def test_a_well_set_telegram_channel_lints_clean(write: Callable[[str, str], Path]) -> None:
    channel = (
        "    type: telegram\n    token: ${TELEGRAM_BOT_TOKEN}\n    chat: -1001234567890\n"
        "    languages: [ru, en]\n    timeout: 15s\n"
    )
    assert lint(write, channel) == []


@pytest.mark.parametrize(
    ("channel", "finding"),
    [
        (
            f"    type: telegram\n    token: '{TOKEN}'\n",
            "literal-secret: `token` holds a literal secret",
        ),
        (
            f"    type: telegram\n    token: ${{T}}\n    api_url: https://api.telegram.org/bot{TOKEN}\n",
            "literal-secret: the URL contains a password or token",
        ),
        (
            "    type: telegram\n    token: ${T}\n    api_url: https://api.telegram.org/bot${T}\n",
            "channel-config: channel `tg`: `api_url` is the API's address only; the token goes "
            "in `token`",
        ),
        (
            "    type: telegram\n    token: ${T}\n    chat: nukus press\n",
            "channel-config: channel `tg`: `chat` nukus press is neither a channel's @name nor a "
            "numeric chat id",
        ),
        (
            "    type: telegram\n    token: ${T}\n    languages: [ru, kaa]\n",
            "channel-config: channel `tg` posts `kaa`, which the playbook does not write",
        ),
        (
            "    type: telegram\n    token: ${T}\n    url: https://x.uz\n",
            "channel-config: `url` does not apply to a telegram channel",
        ),
        (
            "    type: telegram\n    token: ${T}\n    timeout: 2m\n",
            "channel-config: channel `tg`: timeout 2m is too long: a send must end within 30s "
            "(half the outbox lease), or another `crisiscomm serve` may take the notification "
            "over and send it twice",
        ),
    ],
)
def test_telegram_channel_mistakes_are_named(
    write: Callable[[str, str], Path], channel: str, finding: str
) -> None:
    assert finding in lint(write, channel)


def test_a_statement_posted_by_a_channel_without_chat_is_named(
    write: Callable[[str, str], Path],
) -> None:
    base = (FIXTURES / "good/base.yaml").read_text(encoding="utf-8")
    statement = next(
        (line.split(":")[0].strip() for line in base.split("statements:\n")[1].splitlines()),
        "",
    )
    extra = f"statements:\n  {statement}:\n    channels: [tg]\n"
    findings = lint(write, "    type: telegram\n    token: ${T}\n", extra)
    assert (
        f"channel-config: statement `{statement}` goes out by Telegram channel `tg`, which has "
        "no `chat`"
    ) in findings


def test_a_telegram_channel_without_token_is_refused_by_the_schema(
    write: Callable[[str, str], Path],
) -> None:
    findings = lint(write, "    type: telegram\n    chat: '@nukus_press'\n")
    assert any("token" in f and "required" in f for f in findings), findings
