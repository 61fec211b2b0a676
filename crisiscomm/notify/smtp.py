"""The `smtp` channel: one e-mail per recipient through the standard library's smtplib.

Security `starttls` (default, port 587), `ssl` (port 465) or `none` (port 25); certificates
are verified against the system's certificate authorities, or those of the channel's
`ca_file` (a mail server with a certificate from the organisation's own CA). The subject
and body are UTF-8 (every statement language survives any mail server: the body is base64,
the subject RFC 2047). The Message-ID is derived from the
idempotency key, and the key travels in `X-Crisiscomm-Idempotency-Key`, so a mail system
or a reader can tell a redelivery from a new message.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from contextlib import suppress
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crisiscomm.i18n import _
from crisiscomm.notify.errors import DeliveryError, short_reason
from crisiscomm.notify.settings import DEFAULT_TIMEOUT, timeout_seconds
from crisiscomm.notify.tls import tls_context, untrusted
from crisiscomm.playbook.channels import DEFAULT_PORTS, SECURITY
from crisiscomm.store.rows import OutboxRow

if TYPE_CHECKING:
    from email.message import EmailMessage

__all__ = ["SmtpChannel"]

ADDRESS = re.compile(r"^[^@\s,<>;]+@[^@\s,<>;]+$")


class SmtpChannel:
    """Sends each outbox row as one e-mail to its recipient address."""

    remote = True  # a lane of its own in a delivery pass (lanes.py)

    def __init__(
        self,
        name: str,
        *,
        host: str,
        sender: str,
        security: str = "starttls",
        port: int | None = None,
        username: str | None = None,
        password: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        secrets: tuple[str, ...] = (),
        ca_file: str | None = None,
    ) -> None:
        if security not in SECURITY:
            raise DeliveryError(
                _("channel `{channel}`: security `{security}` is not one of: {known}").format(
                    channel=name, security=security, known=", ".join(SECURITY)
                ),
                permanent=True,
            )
        if not host or not sender:
            raise DeliveryError(
                _("channel `{channel}` needs `host` and `sender`").format(channel=name),
                channel_down=True,  # they may come from variables that can be fixed
            )
        self.name = name
        self.host = host
        self.port = port or DEFAULT_PORTS[security]
        self.security = security
        self.sender = sender
        self.username = username
        self.password = password
        self.timeout = timeout
        self.secrets = secrets
        self.where = f"{host}:{self.port}"
        self.context = tls_context(name, ca_file) if security != "none" else None

    @classmethod
    def from_settings(
        cls, name: str, settings: Mapping[str, Any], secrets: tuple[str, ...]
    ) -> SmtpChannel:
        """The channel from its resolved playbook settings."""
        port = settings.get("port")
        try:
            port_number = int(port) if port not in (None, "") else None
        except (TypeError, ValueError):
            raise DeliveryError(
                _("channel `{channel}`: port `{port}` is not a number").format(
                    channel=name, port=port
                ),
                permanent=True,
            ) from None
        return cls(
            name,
            host=str(settings.get("host") or ""),
            sender=str(settings.get("sender") or ""),
            security=str(settings.get("security") or "starttls"),
            port=port_number,
            username=settings.get("username") or None,
            password=settings.get("password") or None,
            timeout=timeout_seconds(name, settings),
            secrets=secrets,
            ca_file=settings.get("ca_file") or None,
        )

    def message(self, row: OutboxRow, *, now: datetime) -> EmailMessage:
        """The e-mail for one row (From, To, Subject, Date, Message-ID, the key header)."""
        from email.message import EmailMessage
        from email.utils import format_datetime, parseaddr

        payload = row.payload
        subject = str(payload.get("subject") or _("crisiscomm: {id}").format(id=row.incident_id))
        text = str(payload.get("text") or "")
        domain = parseaddr(self.sender)[1].rpartition("@")[2] or "crisiscomm.invalid"
        digest = hashlib.sha256(row.idempotency_key.encode("utf-8")).hexdigest()[:32]
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = row.recipient
        message["Subject"] = " ".join(subject.split())  # no line breaks in a header
        message["Date"] = format_datetime(now)
        message["Message-ID"] = f"<{digest}.crisiscomm@{domain}>"
        message["X-Crisiscomm-Idempotency-Key"] = _header_text(row.idempotency_key)
        message["X-Crisiscomm-Incident"] = _header_text(row.incident_id)
        message["Auto-Submitted"] = "auto-generated"
        footer = f"\n\n-- \ncrisiscomm · {row.incident_id}\n"
        message.set_content(text + footer, charset="utf-8", cte="base64")
        return message

    def sync(self) -> None:
        """Nothing to do: the server accepted each message in `send`."""

    def send(self, row: OutboxRow, *, now: datetime) -> None:
        """Send the row's e-mail to its one recipient, the whole conversation within the
        channel's `timeout`."""
        import smtplib
        from email.utils import parseaddr

        from crisiscomm.notify.deadline import SendDeadline, smtp_client

        if not ADDRESS.match(row.recipient):
            raise DeliveryError(
                _(
                    "channel `{channel}`: `{recipient}` is not an e-mail address; an smtp "
                    "channel sends to the addresses of the people notified"
                ).format(channel=self.name, recipient=row.recipient),
                permanent=True,
            )
        message = self.message(row, now=now)
        context = self.context
        step = "connect"
        client: smtplib.SMTP | None = None
        with SendDeadline(self.timeout) as deadline:
            try:
                client = smtp_client(
                    deadline,
                    host=self.host,
                    port=self.port,
                    timeout=self.timeout,
                    tls=context if self.security == "ssl" else None,
                )
                if self.security == "starttls":
                    step = "starttls"
                    client.ehlo()
                    client.starttls(context=context)
                    client.ehlo()
                if self.username:
                    step = "login"
                    client.login(self.username, self.password or "")
                step = "send"
                client.send_message(
                    message, from_addr=parseaddr(self.sender)[1], to_addrs=[row.recipient]
                )
                step = "quit"
                # the server has the message: whatever it answers to QUIT (or if the
                # deadline cuts it short), it was delivered
                with suppress(smtplib.SMTPException, OSError):
                    client.quit()
            except OSError as error:  # smtplib's and ssl's errors are OSErrors too
                # once cut off, what smtplib read may be a reply cut short ("25" of "250")
                if deadline.expired or isinstance(error, TimeoutError):
                    raise self._too_slow() from None
                raise self._failed(error, step, row.recipient) from None
            finally:
                if client is not None:
                    client.close()

    def _too_slow(self) -> DeliveryError:
        return DeliveryError(
            _(
                "channel `{channel}`: the mail server {where} is too slow: it did not answer "
                "within {s:g}s"
            ).format(channel=self.name, where=self.where, s=self.timeout),
            channel_down=True,
        )

    def _failed(self, error: OSError, step: str, recipient: str) -> DeliveryError:
        import smtplib
        import ssl

        if isinstance(error, smtplib.SMTPException):
            return self._smtp_error(error, step, recipient)
        if isinstance(error, ssl.SSLCertVerificationError):
            return untrusted(self.name, self.where, error)
        if isinstance(error, ssl.SSLError):
            return DeliveryError(
                _("channel `{channel}`: TLS with the mail server {where} failed: {reason}").format(
                    channel=self.name, where=self.where, reason=short_reason(error)
                ),
                channel_down=True,
                hint=_(
                    "`security: ssl` needs a server speaking TLS from the start (usually port "
                    "465); port 587 and 25 take `security: starttls`"
                ),
            )
        return DeliveryError(
            _("channel `{channel}`: cannot reach the mail server {where}: {reason}").format(
                channel=self.name, where=self.where, reason=short_reason(error)
            ),
            channel_down=True,
        )

    def _smtp_error(self, error: Exception, step: str, recipient: str) -> DeliveryError:
        import smtplib

        where, channel = self.where, self.name
        if isinstance(error, smtplib.SMTPNotSupportedError) and step == "starttls":
            return DeliveryError(
                _("channel `{channel}`: the mail server {where} does not offer STARTTLS").format(
                    channel=channel, where=where
                ),
                channel_down=True,
                hint=_(
                    "check host and port; use `security: ssl` for a server that speaks TLS "
                    "from the start (port 465)"
                ),
            )
        if isinstance(error, smtplib.SMTPNotSupportedError) and step == "login":
            return DeliveryError(
                _(
                    "channel `{channel}`: the mail server {where} does not offer a login on "
                    "this connection"
                ).format(channel=channel, where=where),
                channel_down=True,
                hint=_("most servers offer a login only after STARTTLS or on SSL"),
            )
        if isinstance(error, smtplib.SMTPAuthenticationError):
            return DeliveryError(
                _("channel `{channel}`: the mail server {where} refused the login ({code})").format(
                    channel=channel, where=where, code=error.smtp_code
                ),
                channel_down=True,
                hint=_("check the user name and password variables of the channel"),
            )
        if isinstance(error, smtplib.SMTPRecipientsRefused):
            code, text = next(iter(error.recipients.values()), (0, b""))
            return DeliveryError(
                _(
                    "channel `{channel}`: the mail server {where} refused {recipient}: "
                    "{code} {text}"
                ).format(
                    channel=channel,
                    where=where,
                    recipient=recipient,
                    code=code,
                    text=_server_text(text),
                ),
                permanent=code >= 500,
            )
        if isinstance(error, smtplib.SMTPDataError):
            return DeliveryError(
                _(
                    "channel `{channel}`: the mail server {where} refused the message: "
                    "{code} {text}"
                ).format(
                    channel=channel,
                    where=where,
                    code=error.smtp_code,
                    text=_server_text(error.smtp_error),
                ),
                permanent=error.smtp_code >= 500,
            )
        if isinstance(error, smtplib.SMTPServerDisconnected):
            return DeliveryError(
                _("channel `{channel}`: the mail server {where} closed the connection").format(
                    channel=channel, where=where
                ),
                channel_down=True,
            )
        if isinstance(error, smtplib.SMTPResponseException):
            return DeliveryError(
                _("channel `{channel}`: the mail server {where} answered {code} {text}").format(
                    channel=channel,
                    where=where,
                    code=error.smtp_code,
                    text=_server_text(error.smtp_error),
                ),
                channel_down=True,
            )
        return DeliveryError(
            _("channel `{channel}`: sending through {where} failed: {reason}").format(
                channel=channel, where=where, reason=short_reason(error)
            ),
            channel_down=True,
        )


def _server_text(text: bytes | str) -> str:
    """A server's reply, one line, at most 200 characters."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(text.split())[:200]


def _header_text(text: str) -> str:
    return " ".join(text.split())
