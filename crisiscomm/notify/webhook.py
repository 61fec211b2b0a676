"""The `webhook` channel: an HTTP POST of JSON through the standard library's urllib.

The body has a `text` field (what Slack, Mattermost and Teams-style receivers show) and
the structured notification beside it. Headers: `Idempotency-Key` (the same on every
attempt), `X-Crisiscomm-Signature: sha256=<hex HMAC-SHA256 of the exact body>` when the
channel has a `secret`, and the channel's own `headers`. Redirects are not followed: a 3xx
is a failure, so a notification never lands somewhere the playbook does not name.
Certificates of https:// receivers are verified (`ca_file` for an organisation's own CA).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from crisiscomm import __version__
from crisiscomm.clock import format_utc
from crisiscomm.i18n import _
from crisiscomm.notify.errors import DeliveryError, short_reason
from crisiscomm.notify.settings import DEFAULT_TIMEOUT, timeout_seconds
from crisiscomm.notify.tls import tls_context, untrusted
from crisiscomm.playbook.channels import HEADER_NAME, OWN_HEADERS, SIGNATURE_HEADER
from crisiscomm.store.rows import OutboxRow

__all__ = ["WebhookChannel", "body", "signature"]

MAX_RESPONSE = 64 * 1024  # bytes of an answer read (and thrown away) before closing


def body(row: OutboxRow, *, now: datetime) -> bytes:
    """The JSON a webhook receives for a row (UTF-8, keys sorted)."""
    payload = row.payload
    subject = str(payload.get("subject") or "")
    text = str(payload.get("text") or "")
    shown = f"{subject}\n\n{text}" if subject and text else subject or text
    document = {
        "text": shown,
        "subject": subject,
        "incident_id": row.incident_id,
        "kind": payload.get("kind"),
        "channel": row.channel,
        "recipient": row.recipient,
        "idempotency_key": row.idempotency_key,
        "sent_at": format_utc(now),
        "payload": payload,
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True).encode("utf-8")


def signature(secret: str, data: bytes) -> str:
    """The signature header's value: `sha256=` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), data, hashlib.sha256).hexdigest()


class WebhookChannel:
    """POSTs each outbox row as JSON to one URL."""

    remote = True  # a lane of its own in a delivery pass (lanes.py)

    def __init__(
        self,
        name: str,
        *,
        url: str,
        secret: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        secrets: tuple[str, ...] = (),
        ca_file: str | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise DeliveryError(
                _(
                    "channel `{channel}`: the webhook URL is not an http:// or https:// address"
                ).format(channel=name),
                channel_down=True,  # it may come from a variable that can be fixed
            )
        for header, value in (headers or {}).items():
            if (
                not HEADER_NAME.match(header)
                or header.lower() in OWN_HEADERS
                or any(c in str(value) for c in "\r\n\0")
            ):
                # the value is never shown: it may be a token
                raise DeliveryError(
                    _("channel `{channel}`: the header `{header}` cannot be sent").format(
                        channel=name, header=header[:60]
                    ),
                    channel_down=True,
                    hint=_(
                        "a header name is one word without spaces, a value one line; "
                        "Content-Type, Idempotency-Key and {signature} are set by crisiscomm"
                    ).format(signature=SIGNATURE_HEADER),
                )
        self.name = name
        self.url = url
        self.secret = secret
        self.headers = dict(headers or {})
        self.timeout = timeout
        self.secrets = secrets
        # for messages: scheme, host and port only (a path or query may hold a token)
        port = f":{parts.port}" if parts.port else ""
        self.where = f"{parts.scheme}://{parts.hostname}{port}"
        self.context = tls_context(name, ca_file) if parts.scheme == "https" else None

    @classmethod
    def from_settings(
        cls, name: str, settings: Mapping[str, Any], secrets: tuple[str, ...]
    ) -> WebhookChannel:
        """The channel from its resolved playbook settings."""
        headers = settings.get("headers") or {}
        return cls(
            name,
            url=str(settings.get("url") or ""),
            secret=settings.get("secret") or None,
            headers={str(k): str(v) for k, v in headers.items()},
            timeout=timeout_seconds(name, settings),
            secrets=secrets,
            ca_file=settings.get("ca_file") or None,
        )

    def sync(self) -> None:
        """Nothing to do: the receiver answered each POST in `send`."""

    def send(self, row: OutboxRow, *, now: datetime) -> None:
        """POST the row; anything but a 2xx answer, whole within the channel's `timeout`, is
        a DeliveryError."""
        import urllib.error
        import urllib.request
        from http.client import HTTPException

        from crisiscomm.notify.deadline import SendDeadline, webhook_opener

        data = body(row, now=now)
        headers = {
            **self.headers,
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": f"crisiscomm/{__version__}",
            "Idempotency-Key": row.idempotency_key,
        }
        if self.secret:
            headers[SIGNATURE_HEADER] = signature(self.secret, data)
        request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
        with SendDeadline(self.timeout) as deadline:
            opener = webhook_opener(deadline, tls=self.context, handlers=(_no_redirects()(),))
            try:
                with opener.open(request, timeout=self.timeout) as response:
                    response.read(MAX_RESPONSE)
                if deadline.cut:  # the answer may be cut short: a short read is no error
                    raise TimeoutError
            except urllib.error.HTTPError as error:
                error.close()
                raise self._answered(error.code, error.headers.get("Location")) from None
            except urllib.error.URLError as error:
                raise self._unreachable(error.reason, deadline.expired) from None
            except (HTTPException, OSError) as error:  # while reading the answer
                raise self._unreachable(error, deadline.expired) from None

    def _answered(self, code: int, location: str | None) -> DeliveryError:
        if 300 <= code < 400:
            # only the host is shown: a path, query or user may hold a token
            parts = urlsplit(location or "")
            if parts.hostname:
                target = f"{parts.scheme}://{parts.hostname}"
            else:
                target = _("another address on the same server")
            return DeliveryError(
                _(
                    "channel `{channel}`: the webhook {where} answered {code} (a redirect to "
                    "{target}); crisiscomm does not follow redirects"
                ).format(channel=self.name, where=self.where, code=code, target=target),
                channel_down=True,
                hint=_("put the final address in the playbook's `url`"),
            )
        return DeliveryError(
            _("channel `{channel}`: the webhook {where} answered HTTP {code}").format(
                channel=self.name, where=self.where, code=code
            ),
            # a receiver that rejects this one body may take the next
            channel_down=code not in (400, 409, 413, 422),
        )

    def _unreachable(self, reason: object, too_late: bool) -> DeliveryError:
        import ssl

        if isinstance(reason, ssl.SSLCertVerificationError):
            return untrusted(self.name, self.where, reason)
        if isinstance(reason, TimeoutError) or too_late:
            message = _(
                "channel `{channel}`: the webhook {where} is too slow: it did not answer "
                "within {s:g}s"
            )
        else:
            message = _("channel `{channel}`: cannot reach the webhook {where}: {reason}")
        text = short_reason(reason) if isinstance(reason, BaseException) else str(reason)
        return DeliveryError(
            message.format(channel=self.name, where=self.where, s=self.timeout, reason=text),
            channel_down=True,
        )


@lru_cache(maxsize=1)
def _no_redirects() -> type:
    """The redirect handler of every webhook opener (urllib is imported on first use)."""
    import urllib.request

    class NoRedirects(urllib.request.HTTPRedirectHandler):
        """Turns every redirect into the HTTPError of the 3xx answer."""

        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    return NoRedirects
