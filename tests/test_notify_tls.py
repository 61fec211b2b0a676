"""TLS to real receivers on 127.0.0.1: a mail server (STARTTLS and TLS from the start) and an
https:// webhook with certificates from a test CA (trustme), trusted only through the
channel's `ca_file`; untrusted certificates and unusable CA files fail with messages that
say what to do.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from crisiscomm.notify.channels import ChannelFactory
from crisiscomm.notify.check import check_channels
from crisiscomm.notify.errors import DeliveryError
from crisiscomm.notify.tls import tls_context

from .test_notify_channels import KARAKALPAK, NOW, RUSSIAN, SUBJECT, row
from .test_notify_receivers import Mailbox, Webhook


@pytest.fixture(name="ca", scope="module")
def ca_fixture() -> trustme.CA:
    """The press office's own certificate authority."""
    return trustme.CA(organization_name="Ministry test CA")


@pytest.fixture(name="ca_file")
def ca_file_fixture(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "ministry-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def server_context(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*(names or ("127.0.0.1", "localhost"))).configure_cert(context)
    return context


@pytest.fixture(name="starttls_mailbox")
def starttls_mailbox_fixture(ca: trustme.CA) -> Iterator[Mailbox]:
    server = Mailbox(starttls=server_context(ca))
    try:
        yield server
    finally:
        server.close()


def smtp(port: int, security: str = "starttls", **settings: Any) -> Any:
    definition = {
        "type": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "security": security,
        "sender": "Press service <press@example.uz>",
        **settings,
    }
    return ChannelFactory(environ={})("mail", definition)


def mail_row() -> Any:
    return row(channel="mail", recipient="duty@example.uz")


def test_mail_over_starttls_trusting_the_offices_own_ca(
    starttls_mailbox: Mailbox, ca_file: Path
) -> None:
    smtp(starttls_mailbox.port, ca_file=str(ca_file)).send(mail_row(), now=NOW)
    [mail] = starttls_mailbox.mails
    assert mail.recipients == ["duty@example.uz"]
    assert mail.message["Subject"] == SUBJECT
    assert KARAKALPAK in mail.text and RUSSIAN in mail.text


def test_mail_over_tls_from_the_start(ca: trustme.CA, ca_file: Path) -> None:
    server = Mailbox(implicit=server_context(ca))
    try:
        smtp(server.port, "ssl", ca_file=str(ca_file)).send(mail_row(), now=NOW)
    finally:
        server.close()
    [mail] = server.mails
    assert mail.message["Subject"] == SUBJECT


def test_a_mail_server_certificate_the_system_does_not_trust(starttls_mailbox: Mailbox) -> None:
    with pytest.raises(DeliveryError) as caught:
        smtp(starttls_mailbox.port).send(mail_row(), now=NOW)
    error = caught.value
    where = f"127.0.0.1:{starttls_mailbox.port}"
    assert error.message.startswith(f"channel `mail`: the certificate of {where} is not trusted: ")
    assert "certificate" in error.message.split("not trusted: ")[1]  # OpenSSL's reason
    assert error.hint is not None and "`ca_file:`" in error.hint
    assert error.channel_down and not error.permanent  # the rows wait for a fix
    assert starttls_mailbox.mails == []


def test_a_certificate_for_another_host_is_refused_even_from_the_trusted_ca(
    ca: trustme.CA, ca_file: Path
) -> None:
    server = Mailbox(starttls=server_context(ca, "mail.example.uz"))
    try:
        with pytest.raises(DeliveryError) as caught:
            smtp(server.port, ca_file=str(ca_file)).send(mail_row(), now=NOW)
    finally:
        server.close()
    assert "is not trusted: IP address mismatch" in caught.value.message
    assert server.mails == []


def test_webhook_over_https_trusting_the_offices_own_ca(ca: trustme.CA, ca_file: Path) -> None:
    receiver = Webhook(secret="s3cret-hmac", tls=server_context(ca))
    definition = {"type": "webhook", "url": receiver.url, "secret": "${HMAC}"}
    try:
        assert receiver.url.startswith("https://127.0.0.1:")
        channel = ChannelFactory(environ={"HMAC": "s3cret-hmac"})(
            "newsroom", {**definition, "ca_file": str(ca_file)}
        )
        channel.send(row(), now=NOW)
    finally:
        receiver.close()
    [request] = receiver.requests
    assert request.signature_ok
    assert request.json()["subject"] == SUBJECT


def test_a_webhook_certificate_the_system_does_not_trust(ca: trustme.CA) -> None:
    receiver = Webhook(tls=server_context(ca))
    try:
        channel = ChannelFactory(environ={})("newsroom", {"type": "webhook", "url": receiver.url})
        with pytest.raises(DeliveryError) as caught:
            channel.send(row(), now=NOW)
    finally:
        receiver.close()
    port = receiver.server.server_address[1]
    assert caught.value.message.startswith(
        f"channel `newsroom`: the certificate of https://127.0.0.1:{port} is not trusted: "
    )
    assert caught.value.hint is not None and "`ca_file:`" in caught.value.hint
    assert receiver.requests == []  # nothing was posted


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "`ca_file` {path} does not exist"),
        ("", "`ca_file` {path} holds no certificate in PEM form"),
        (
            "-----BEGIN PRIVATE KEY-----\nAAAA\n",
            "`ca_file` {path} holds no certificate in PEM form",
        ),
        ("folder", "`ca_file` {path} is a folder, not a file"),
    ],
)
def test_an_unusable_ca_file_is_named_at_start_and_at_delivery(
    tmp_path: Path, content: str | None, problem: str
) -> None:
    path = tmp_path / "ca.pem"
    if content == "folder":
        path.mkdir()
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    expected = problem.format(path=path)
    channels = {"mail": {"type": "smtp", "host": "mail.example.uz", "sender": "p@example.uz"}}
    channels["mail"]["ca_file"] = "${CA_FILE}"
    assert check_channels(channels, environ={"CA_FILE": str(path)}) == [
        f"channel `mail`: {expected}"
    ]
    with pytest.raises(DeliveryError) as caught:
        tls_context("mail", str(path))
    assert caught.value.message == f"channel `mail`: {expected}"
    assert caught.value.channel_down and not caught.value.permanent


def test_a_usable_ca_file_passes_the_start_up_check(ca_file: Path) -> None:
    channels = {
        "mail": {"type": "smtp", "host": "h.example.uz", "sender": "p@example.uz"},
        "hook": {"type": "webhook", "url": "https://chat.example.uz/h", "ca_file": str(ca_file)},
    }
    channels["mail"]["ca_file"] = str(ca_file)
    assert check_channels(channels, environ={}) == []
    unset = {"hook": {**channels["hook"], "ca_file": "${CA_FILE}"}}
    assert check_channels(unset, environ={}) == [
        "channel `hook`: the environment variable CA_FILE is not set"
    ]
