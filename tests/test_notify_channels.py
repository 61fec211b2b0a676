"""Channels against real receivers on 127.0.0.1: console, file, webhook, smtp; `${ENV}`
resolution, redaction and the start-up checks."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from crisiscomm.notify import ChannelFactory, DeliveryError, check_channel, check_channels
from crisiscomm.notify.env import redact, references, resolve
from crisiscomm.notify.smtp import SmtpChannel
from crisiscomm.notify.webhook import WebhookChannel, signature
from crisiscomm.store.rows import OutboxRow
from tests.test_notify_receivers import (  # noqa: F401 (fixtures, used by name)
    WEBHOOK_SECRET,
    Mailbox,
    Webhook,
    mailbox_fixture,
    webhook_fixture,
)

NOW = datetime(2026, 4, 3, 1, 0, tzinfo=UTC)
KARAKALPAK = "Nókis qalasında suw tasqını: 120 adam kóshirildi. Keyingi xabar saat 10:00 de."
KARAKALPAK_LETTERS = "á ǵ ń ó ú ı Á Ǵ Ń Ó Ú"
UZBEK = "Nukus shahrida suv toshqini: 120 kishi evakuatsiya qilindi. Oʻzbekiston, gʻarb."
RUSSIAN = "Наводнение в Нукусе: эвакуировано 120 человек. Следующее сообщение в 10:00."
SUBJECT = "Suw tasqını — Наводнение (INC-2026-0001) ǵ ń"


def row(**fields: Any) -> OutboxRow:
    values: dict[str, Any] = {
        "id": 1,
        "incident_id": "INC-2026-0001",
        "idempotency_key": "INC-2026-0001:holding:v1:newsroom",
        "channel": "newsroom",
        "recipient": "public",
        "payload": {
            "incident_id": "INC-2026-0001",
            "kind": "statement",
            "subject": SUBJECT,
            "texts": {"kaa": KARAKALPAK, "uz": UZBEK, "ru": RUSSIAN},
            "text": f"{KARAKALPAK} {KARAKALPAK_LETTERS}\n\n{UZBEK}\n\n{RUSSIAN}",
        },
        "status": "pending",
        "attempts": 1,
        "next_attempt_at": NOW,
        "created_at": NOW,
        "sent_at": None,
        "last_error": None,
    }
    values.update(fields)
    return OutboxRow(**values)


def failure(call: Any, *args: Any, **kwargs: Any) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        call(*args, **kwargs)
    return caught.value


# -- ${ENV} ---------------------------------------------------------------------------------------


def test_env_references_resolve_anywhere_in_a_string_and_secrets_are_collected() -> None:
    definition = {
        "type": "webhook",
        "url": "https://cms.example.uz/hooks/${HOOK_ID}",
        "secret": "${WEBHOOK_SECRET}",
        "headers": {"Authorization": "Bearer ${TOKEN}", "X-Channel": "nukus"},
    }
    environ = {"HOOK_ID": "h-77", "WEBHOOK_SECRET": "s3cr3t-value", "TOKEN": "tok-123456"}
    assert references(definition) == ["HOOK_ID", "WEBHOOK_SECRET", "TOKEN"]
    resolved = resolve("website", definition, environ)
    assert resolved.settings["url"] == "https://cms.example.uz/hooks/h-77"
    assert resolved.settings["headers"] == {
        "Authorization": "Bearer tok-123456",
        "X-Channel": "nukus",
    }
    assert set(resolved.secrets) == {"h-77", "s3cr3t-value", "tok-123456"}
    assert redact("got s3cr3t-value and tok-123456", resolved.secrets) == "got *** and ***"


@pytest.mark.parametrize("value", [None, ""])
def test_a_missing_variable_is_named_and_its_channel_is_down_not_the_row_lost(
    value: str | None,
) -> None:
    environ = {"SMTP_USER": "press-bot"} | ({} if value is None else {"SMTP_PASSWORD": value})
    error = failure(
        resolve,
        "email",
        {"type": "smtp", "username": "${SMTP_USER}", "password": "${SMTP_PASSWORD}"},
        environ,
    )
    assert error.message == (
        "channel `email`: the environment variable SMTP_PASSWORD (for `password`) is not set"
    )
    assert error.hint == "set SMTP_PASSWORD where crisiscomm serve runs, then restart it"
    assert (error.permanent, error.channel_down) == (False, True)
    assert "press-bot" not in error.message


# -- console and file -------------------------------------------------------------------------------


def test_console_writes_to_the_stream_it_is_given() -> None:
    out, err = io.StringIO(), io.StringIO()
    factory = ChannelFactory(environ={}, streams={"stdout": out, "stderr": err})
    factory("alerts", {"type": "console", "stream": "stderr"}).send(row(), now=NOW)
    assert out.getvalue() == ""
    assert err.getvalue().startswith(f"[INC-2026-0001] public: {SUBJECT}\n{KARAKALPAK}")
    assert RUSSIAN in err.getvalue()


def test_console_on_a_stream_that_cannot_show_the_letters_still_delivers() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    ChannelFactory(streams={"stdout": stream})("c", {"type": "console"}).send(row(), now=NOW)
    assert b"N?kis qalas?nda" in raw.getvalue()


def test_file_appends_fsynced_json_lines_relative_to_the_current_folder(tmp_path: Path) -> None:
    channel = ChannelFactory(environ={})("log", {"type": "file", "path": "log/press/n.jsonl"})
    channel.send(row(), now=NOW)
    channel.send(row(id=2, idempotency_key="second", recipient="duty_officer"), now=NOW)
    lines = (tmp_path / "log" / "press" / "n.jsonl").read_text(encoding="utf-8").splitlines()
    first, second = (json.loads(line) for line in lines)
    assert first == {
        "at": "2026-04-03T01:00:00.000000Z",
        "channel": "newsroom",
        "idempotency_key": "INC-2026-0001:holding:v1:newsroom",
        "incident_id": "INC-2026-0001",
        "recipient": "public",
        "subject": SUBJECT,
        "text": row().payload["text"],
        "payload": row().payload,
    }
    assert (second["idempotency_key"], second["recipient"]) == ("second", "duty_officer")
    assert KARAKALPAK in lines[0]  # readable UTF-8, not \u escapes


def test_file_that_cannot_be_written_is_a_clear_failure(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file, not a folder", encoding="utf-8")
    channel = ChannelFactory()("log", {"type": "file", "path": "taken/n.jsonl"})
    error = failure(channel.send, row(), now=NOW)
    assert error.message.startswith("channel `log`: cannot append to taken/n.jsonl: ")
    assert error.channel_down


# -- webhook -------------------------------------------------------------------------------------


def newsroom(url: str, **settings: Any) -> Any:
    definition = {"type": "webhook", "url": url, "secret": "${HOOK_SECRET}", **settings}
    return ChannelFactory(environ={"HOOK_SECRET": WEBHOOK_SECRET})("newsroom", definition)


def test_webhook_posts_signed_json_with_text_and_idempotency_key(webhook: Webhook) -> None:
    newsroom(webhook.url, headers={"X-Channel": "nukus-hokimiyat"}).send(row(), now=NOW)
    [received] = webhook.requests
    assert received.signature_ok  # the receiver recomputed the HMAC over the exact body
    assert received.headers["X-Crisiscomm-Signature"] == signature(WEBHOOK_SECRET, received.body)
    assert received.headers["Idempotency-Key"] == "INC-2026-0001:holding:v1:newsroom"
    assert received.headers["Content-Type"] == "application/json; charset=utf-8"
    assert received.headers["X-Channel"] == "nukus-hokimiyat"
    document = received.json()
    assert document["text"] == f"{SUBJECT}\n\n{row().payload['text']}"
    assert KARAKALPAK_LETTERS in document["text"] and RUSSIAN in document["text"]
    assert document["payload"] == row().payload
    assert (document["incident_id"], document["idempotency_key"], document["kind"]) == (
        "INC-2026-0001",
        "INC-2026-0001:holding:v1:newsroom",
        "statement",
    )


def test_webhook_does_not_follow_a_redirect(webhook: Webhook) -> None:
    webhook.redirect_to = f"{webhook.url}/elsewhere?token=leak-me-not"
    error = failure(newsroom(webhook.url).send, row(), now=NOW)
    assert [r.path for r in webhook.requests] == ["/hooks/press"]  # /elsewhere never asked
    port = webhook.url.split(":")[2].split("/")[0]
    assert error.message == (
        f"channel `newsroom`: the webhook http://127.0.0.1:{port} answered 302 (a redirect to "
        "http://127.0.0.1); crisiscomm does not follow redirects"
    )
    assert error.hint == "put the final address in the playbook's `url`"
    assert "leak-me-not" not in error.message


def test_webhook_error_answer_is_a_failure_naming_the_status(webhook: Webhook) -> None:
    webhook.always_fail = True
    error = failure(newsroom(webhook.url).send, row(), now=NOW)
    assert error.message.endswith("answered HTTP 503")
    assert error.channel_down and not error.permanent


def test_webhook_timeout_is_a_failure_not_a_hang(webhook: Webhook) -> None:
    import time

    webhook.hang = True
    channel = WebhookChannel("newsroom", url=webhook.url, timeout=0.3)
    started = time.monotonic()
    error = failure(channel.send, row(), now=NOW)
    assert time.monotonic() - started < 3
    assert error.message.endswith("did not answer within 0.3s")
    assert error.channel_down


def test_webhook_unreachable_is_a_clear_failure() -> None:
    from tests.test_notify_receivers import free_port

    url = f"http://127.0.0.1:{free_port()}/hook"
    error = failure(WebhookChannel("newsroom", url=url, timeout=2).send, row(), now=NOW)
    assert error.message.startswith(
        "channel `newsroom`: cannot reach the webhook http://127.0.0.1:"
    )
    assert error.message.endswith(": Connection refused")


def test_webhook_header_with_a_line_break_is_refused_without_showing_its_value() -> None:
    error = failure(
        WebhookChannel,
        "newsroom",
        url="https://cms.example.uz/hook",
        headers={"Authorization": "Bearer abc\r\nX-Evil: 1"},
    )
    assert error.message == "channel `newsroom`: the header `Authorization` cannot be sent"
    assert "abc" not in error.message
    assert error.channel_down and not error.permanent  # a variable can be fixed


# -- smtp ------------------------------------------------------------------------------------------


def email_channel(port: int, **settings: Any) -> Any:
    definition = {
        "type": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "sender": "Press service <press@example.uz>",
        "timeout": "5s",
        **settings,
    }
    environ = {"SMTP_USER": "press-bot", "SMTP_PASSWORD": "pa55-Word-9x"}
    return ChannelFactory(environ=environ)("email", definition)


def test_smtp_sends_one_utf8_message_per_recipient(mailbox: Mailbox) -> None:
    channel = email_channel(mailbox.port)
    for number, address in enumerate(["aziz@press.example.uz", "gulnara@press.example.uz"], 1):
        channel.send(row(id=number, idempotency_key=f"key-{number}", recipient=address), now=NOW)
    assert [(m.sender, m.recipients) for m in mailbox.mails] == [
        ("press@example.uz", ["aziz@press.example.uz"]),
        ("press@example.uz", ["gulnara@press.example.uz"]),
    ]
    first, second = (mail.message for mail in mailbox.mails)
    assert first["Subject"] == SUBJECT
    assert first["To"] == "aziz@press.example.uz"
    assert first["From"] == "Press service <press@example.uz>"
    assert first["X-Crisiscomm-Idempotency-Key"] == "key-1"
    assert first["Message-ID"].endswith("@example.uz>")
    assert first["Message-ID"] != second["Message-ID"]
    assert first["Date"] == "Fri, 03 Apr 2026 01:00:00 +0000"
    text = mailbox.mails[0].text
    for language in (KARAKALPAK, KARAKALPAK_LETTERS, UZBEK, RUSSIAN):
        assert language in text
    assert mailbox.mails[0].raw.isascii()  # 7-bit clean: base64 body, RFC 2047 subject


def test_smtp_message_id_is_the_same_for_a_redelivery() -> None:
    channel = SmtpChannel("email", host="smtp.example.uz", sender="press@example.uz")
    again = channel.message(row(attempts=3), now=NOW)
    assert channel.message(row(), now=NOW)["Message-ID"] == again["Message-ID"]


def test_smtp_logs_in_with_the_password_from_the_environment() -> None:
    server = Mailbox(logins={"press-bot": "pa55-Word-9x"})
    try:
        channel = email_channel(server.port, username="${SMTP_USER}", password="${SMTP_PASSWORD}")
        channel.send(row(recipient="aziz@press.example.uz"), now=NOW)
        assert len(server.mails) == 1
        server.logins = {"press-bot": "another"}
        error = failure(channel.send, row(recipient="aziz@press.example.uz"), now=NOW)
        assert error.message == (
            f"channel `email`: the mail server 127.0.0.1:{server.port} refused the login (535)"
        )
        assert "pa55-Word-9x" not in f"{error.message} {error.hint}"
    finally:
        server.close()


def test_smtp_starttls_against_a_server_without_it_says_so(mailbox: Mailbox) -> None:
    channel = email_channel(mailbox.port, security="starttls")
    error = failure(channel.send, row(recipient="aziz@press.example.uz"), now=NOW)
    assert error.message == (
        f"channel `email`: the mail server 127.0.0.1:{mailbox.port} does not offer STARTTLS"
    )
    assert error.hint and "security: ssl" in error.hint
    assert mailbox.mails == []


def test_smtp_ssl_against_a_plain_server_says_tls_failed(mailbox: Mailbox) -> None:
    channel = email_channel(mailbox.port, security="ssl")
    error = failure(channel.send, row(recipient="aziz@press.example.uz"), now=NOW)
    assert error.message.startswith(
        f"channel `email`: TLS with the mail server 127.0.0.1:{mailbox.port} failed: "
    )
    assert error.hint and "port 465" in error.hint
    assert error.channel_down


def test_smtp_recipient_that_is_not_an_address_is_a_permanent_failure(mailbox: Mailbox) -> None:
    error = failure(email_channel(mailbox.port).send, row(recipient="public"), now=NOW)
    assert error.message.startswith("channel `email`: `public` is not an e-mail address")
    assert error.permanent and mailbox.mails == []


def test_smtp_unreachable_server_is_a_clear_failure() -> None:
    from tests.test_notify_receivers import free_port

    port = free_port()
    error = failure(email_channel(port).send, row(recipient="a@example.uz"), now=NOW)
    assert error.message == (
        f"channel `email`: cannot reach the mail server 127.0.0.1:{port}: Connection refused"
    )


# -- checks before anything is sent -------------------------------------------------------------


@pytest.mark.parametrize(
    ("definition", "problems"),
    [
        ({"type": "console"}, []),
        ({"type": "console", "stream": "stdlog"}, ["stream `stdlog` is neither stdout nor stderr"]),
        ({"type": "file", "path": "logs/"}, ["`path` logs/ names a folder, not a file"]),
        (
            {
                "type": "smtp",
                "host": "smtp.example.uz",
                "port": 587,
                "security": "ssl",
                "sender": "p@x.uz",
            },
            [
                "security `ssl` on port 587: that port starts in plain text; use `security: starttls`, or port 465 for ssl"
            ],
        ),
        (
            {
                "type": "smtp",
                "host": "smtp.example.uz",
                "port": 465,
                "security": "starttls",
                "sender": "p@x.uz",
            },
            [
                "security `starttls` on port 465: that port expects TLS from the start; use `security: ssl`"
            ],
        ),
        (
            {
                "type": "smtp",
                "host": "smtp://smtp.example.uz",
                "sender": "p@x.uz",
                "password": "${P}",
                "security": "none",
            },
            [
                "host `smtp://smtp.example.uz` should be a server name such as smtp.example.uz",
                "`password` is given without `username`",
                "a login with `security: none` sends the password unencrypted; use starttls or ssl",
            ],
        ),
        (
            {"type": "smtp", "host": "smtp.example.uz:587", "sender": "p@x.uz"},
            ["write the port as `port:`, not in `host`"],
        ),
        (
            {"type": "webhook", "url": "ftp://x.uz/h"},
            ["the URL is not an http:// or https:// address"],
        ),
        (
            {"type": "webhook", "url": "https://u:pw@x.uz/h"},
            ["the URL carries a password; use `secret` or a header instead"],
        ),
        (
            {"type": "webhook", "url": "${HOOK_URL}", "secret": "literal"},
            ["`secret` must be a `${ENV_VAR}` reference"],
        ),
        (
            {
                "type": "webhook",
                "url": "https://x.uz/h",
                "headers": {"Idempotency-Key": "1", "Bad Name": "v"},
            },
            [
                "header `Idempotency-Key` is set by crisiscomm",
                "header name `Bad Name` is not one word",
            ],
        ),
        (
            {"type": "webhook", "url": "https://x.uz/h", "timeout": "soon"},
            ["timeout: `soon` is not a duration; write e.g. 30s, 15m, 2h, 1d, 1h30m or PT15M"],
        ),
        ({"type": "pager"}, ["unknown channel type `pager`"]),
    ],
)
def test_check_channel(definition: dict[str, Any], problems: list[str]) -> None:
    assert check_channel(definition) == problems


def test_shipped_playbook_channels_are_clean_once_their_variables_are_set() -> None:
    from crisiscomm.playbook.compile import compile_playbook

    from .conftest import REPO

    environ = dict.fromkeys(
        ["SMTP_USER", "SMTP_PASSWORD", "WEBHOOK_SECRET", "WEBHOOK_TOKEN"], "x" * 8
    )
    for path in sorted((REPO / "playbooks").glob("*.yaml")):
        channels = compile_playbook(path).channels
        assert check_channels(channels, environ=environ) == [], path.name
        missing = check_channels(channels, environ={})
        assert "channel `email`: the environment variable SMTP_PASSWORD is not set" in missing


def test_check_channels_names_variables_never_values() -> None:
    channels = {
        "website": {"type": "webhook", "url": "https://x.uz/h", "secret": "${WEBHOOK_SECRET}"}
    }
    assert check_channels(channels, environ={}) == [
        "channel `website`: the environment variable WEBHOOK_SECRET is not set"
    ]
    assert check_channels(channels, environ={"WEBHOOK_SECRET": "v-9a8b7c"}) == []


def test_importing_notify_is_cheap() -> None:
    code = (
        "import sys, crisiscomm.notify; "
        "print(sorted(m for m in sys.modules if m in {'smtplib', 'ssl', 'urllib.request', "
        "'http.client', 'email.message', 'aiosmtpd'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_errors_about_a_url_never_quote_it() -> None:
    from http.client import InvalidURL

    from crisiscomm.notify.errors import short_reason

    secret = "http://127.0.0.1:9/services/T000/B000/XXXXSECRETXXXX trailing"
    assert (
        short_reason(InvalidURL(f"URL can't contain control characters. {secret!r}"))
        == "InvalidURL"
    )
    assert short_reason(ValueError(f"bad {secret}")) == "ValueError"


def test_smtp_a_message_the_server_took_is_sent_whatever_it_answers_to_quit() -> None:
    """The message is the server's once it answered DATA: a bad QUIT reply must not turn it
    into a failure (the retry would e-mail everyone twice)."""

    class GrumpyMailbox(Mailbox):
        async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
            return "421 closing the connection"

    server = GrumpyMailbox()
    try:
        email_channel(server.port).send(row(recipient="aziz@press.example.uz"), now=NOW)
    finally:
        server.close()
    assert [mail.recipients for mail in server.mails] == [["aziz@press.example.uz"]]
