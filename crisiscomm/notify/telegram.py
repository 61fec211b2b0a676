"""The `telegram` channel: messages through the Telegram Bot API's `sendMessage` (urllib).

A released statement goes to the channel's `chat` (the office's public channel: `@name` or
a numeric id), one message per language in the channel's `languages` order (default: the
playbook's); a notification goes to the chat of the person it tells (their `telegram`
contact in the office: a numeric chat id, which a person has once they have started the
bot). Texts are sent as plain text, without `parse_mode`, so nothing in a statement is read
as markup. A text longer than Telegram's 4,096 characters is split into parts at paragraph,
then line, then word boundaries, sent in order.

Idempotency: before sending the next part, the parts Telegram accepted are recorded in the
row's payload (`delivered`), through `record_progress`, which the delivery pass sets and
which returns once the record is committed. A retried row (after a 429, a timeout, a
crash) sends only the parts not yet accepted. A part whose answer never came may be sent
twice: at-least-once, as for every channel.

The bot token is in the path of every request: messages name the API's host only, never
the URL, and the pass redacts the token from anything a server or a library said.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from crisiscomm import __version__
from crisiscomm.i18n import _
from crisiscomm.notify.errors import DeliveryError, short_reason
from crisiscomm.notify.settings import DEFAULT_TIMEOUT, timeout_seconds
from crisiscomm.notify.tls import tls_context, untrusted
from crisiscomm.playbook.channels import TELEGRAM_API, TELEGRAM_CHAT
from crisiscomm.store.rows import OutboxRow

__all__ = ["MESSAGE_LIMIT", "TelegramChannel", "messages", "split_text"]

MESSAGE_LIMIT = 4096  # Telegram's longest message, in UTF-16 code units (what it counts)
MAX_RESPONSE = 64 * 1024
PROGRESS = "delivered"  # the payload key under which the parts accepted are recorded

RecordProgress = Callable[[OutboxRow, dict[str, Any]], None]


def _units(text: str) -> int:
    """The length Telegram counts: UTF-16 code units (an emoji counts two)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """`text` in parts of at most `limit` UTF-16 units, cut between paragraphs where it can,
    else between lines, else between words; only a single word longer than `limit` (a very
    long link) is cut inside it. Parts are stripped; empty ones dropped."""
    return [part for part in (p.strip() for p in _split(text.strip(), limit, SEPARATORS)) if part]


SEPARATORS = ("\n\n", "\n", " ")


def _split(text: str, limit: int, separators: tuple[str, ...]) -> list[str]:
    if _units(text) <= limit:
        return [text]
    if not separators:
        return _cut(text, limit)
    separator, rest = separators[0], separators[1:]
    parts: list[str] = []
    current = ""
    for chunk in text.split(separator):
        joined = f"{current}{separator}{chunk}" if current else chunk
        if _units(joined) <= limit:
            current = joined
            continue
        if current:
            parts.append(current)
        pieces = _split(chunk, limit, rest)
        parts.extend(pieces[:-1])
        current = pieces[-1]
    parts.append(current)
    return parts


def _cut(word: str, limit: int) -> list[str]:
    """A word longer than a message, cut between characters (never inside a surrogate pair)."""
    parts: list[str] = []
    current: list[str] = []
    used = 0
    for char in word:
        size = _units(char)
        if used + size > limit:
            parts.append("".join(current))
            current, used = [], 0
        current.append(char)
        used += size
    parts.append("".join(current))
    return parts


def messages(
    row: OutboxRow, languages: list[str] | None = None, limit: int = MESSAGE_LIMIT
) -> list[tuple[str, str]]:
    """(part id, text) of every message a row makes, in the order they are sent.

    A statement: each language's text in `languages` order (default: the playbook's, the
    order of the joined `text`), each split at `limit`; ids `kaa:1`, `kaa:2`, `ru:1` ...
    A notification: its subject and text as one message, split the same way (`text:1` ...).
    """
    payload = row.payload
    texts = payload.get("texts")
    if payload.get("kind") == "statement" and isinstance(texts, Mapping) and texts:
        order = languages or _playbook_order(texts, str(payload.get("text") or ""))
        found = []
        for language in order:
            text = str(texts.get(language) or "")
            for index, part in enumerate(split_text(text, limit), start=1):
                found.append((f"{language}:{index}", part))
        return found
    subject = str(payload.get("subject") or "")
    text = str(payload.get("text") or "")
    shown = f"{subject}\n\n{text}" if subject and text else subject or text
    return [(f"text:{n}", part) for n, part in enumerate(split_text(shown, limit), start=1)]


def _playbook_order(texts: Mapping[str, Any], joined: str) -> list[str]:
    """The statement's languages in the playbook's order: the engine joins the texts in that
    order into `text` (the payload's `texts` is stored with its keys sorted)."""
    position = {lang: joined.find(str(text)) for lang, text in texts.items()}
    return sorted(texts, key=lambda lang: (position[lang] < 0, position[lang]))


class TelegramChannel:
    """Posts each outbox row through a Telegram bot: statements to `chat`, notifications to
    the chat id of the person told."""

    remote = True  # a lane of its own in a delivery pass (lanes.py)

    def __init__(
        self,
        name: str,
        *,
        token: str,
        chat: str | None = None,
        api_url: str = TELEGRAM_API,
        languages: list[str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        secrets: tuple[str, ...] = (),
        ca_file: str | None = None,
    ) -> None:
        parts = urlsplit(api_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise DeliveryError(
                _("channel `{channel}`: `api_url` is not an http:// or https:// address").format(
                    channel=name
                ),
                channel_down=True,  # it may come from a variable that can be fixed
            )
        if not token or any(c.isspace() or c in "/?#" for c in token):
            raise DeliveryError(
                _("channel `{channel}`: the bot token is empty or not one word").format(
                    channel=name
                ),
                channel_down=True,
                hint=_("set the variable named in `token` to the token BotFather gave the bot"),
            )
        if chat is not None and not TELEGRAM_CHAT.match(chat):
            raise DeliveryError(
                _(
                    "channel `{channel}`: `chat` is neither a channel's @name nor a numeric id"
                ).format(channel=name),
                permanent=True,
            )
        self.name = name
        self.token = token
        self.chat = chat
        self.base = api_url.rstrip("/")
        self.languages = list(languages) if languages else None
        self.timeout = timeout
        self.secrets = tuple(dict.fromkeys((*secrets, token)))
        port = f":{parts.port}" if parts.port else ""
        self.where = f"{parts.scheme}://{parts.hostname}{port}"  # never the path: the token
        self.context = tls_context(name, ca_file) if parts.scheme == "https" else None
        # set by the delivery pass: commits what a row has had accepted so far
        self.record_progress: RecordProgress | None = None

    @classmethod
    def from_settings(
        cls, name: str, settings: Mapping[str, Any], secrets: tuple[str, ...]
    ) -> TelegramChannel:
        """The channel from its resolved playbook settings."""
        chat = settings.get("chat")
        languages = settings.get("languages")
        return cls(
            name,
            token=str(settings.get("token") or ""),
            chat=None if chat in (None, "") else str(chat),
            api_url=str(settings.get("api_url") or TELEGRAM_API),
            languages=[str(code) for code in languages] if languages else None,
            timeout=timeout_seconds(name, settings),
            secrets=secrets,
            ca_file=settings.get("ca_file") or None,
        )

    def sync(self) -> None:
        """Nothing to do: Telegram answered each message in `send`."""

    def send(self, row: OutboxRow, *, now: datetime) -> None:
        """Send the row's messages not yet accepted, in order, all within `timeout`; each
        accepted one is recorded before the next is sent."""
        chat = self._chat_of(row)
        delivered: dict[str, Any] = dict(row.payload.get(PROGRESS) or {})
        ends = time.monotonic() + self.timeout
        for part, text in messages(row, self.languages):
            if part in delivered:
                continue
            remaining = ends - time.monotonic()
            if remaining <= 0:
                raise self._too_slow()
            delivered[part] = self._post(chat, text, remaining)
            row.payload[PROGRESS] = dict(delivered)
            if self.record_progress is not None:
                self.record_progress(row, row.payload)

    def _chat_of(self, row: OutboxRow) -> str:
        if row.payload.get("kind") == "statement":
            if self.chat is None:
                raise DeliveryError(
                    _("channel `{channel}` has no `chat` to post statements to").format(
                        channel=self.name
                    ),
                    permanent=True,
                    hint=_('give the channel `chat: "@your_channel"`'),
                )
            return self.chat
        recipient = row.recipient.strip()
        if not re.fullmatch(r"-?\d{1,20}", recipient):
            raise DeliveryError(
                _(
                    "channel `{channel}`: `{recipient}` is not a Telegram chat id; a bot can "
                    "write to a person only by the number of their chat"
                ).format(channel=self.name, recipient=recipient[:60]),
                permanent=True,
                hint=_(
                    "the person starts the bot once; put the chat id the bot then sees in "
                    "their `telegram:` in office.yaml"
                ),
            )
        return recipient

    def _post(self, chat: str, text: str, seconds: float) -> int | None:
        """sendMessage; the message id Telegram gave, or a DeliveryError."""
        import urllib.error
        import urllib.request
        from http.client import HTTPException

        from crisiscomm.notify.deadline import SendDeadline, webhook_opener

        chat_id: int | str = int(chat) if chat.lstrip("-").isdigit() else chat
        data = json.dumps({"chat_id": chat_id, "text": text}, ensure_ascii=False).encode()
        request = urllib.request.Request(
            f"{self.base}/bot{self.token}/sendMessage",
            data=data,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": f"crisiscomm/{__version__}",
            },
            method="POST",
        )
        with SendDeadline(seconds) as deadline:
            opener = webhook_opener(deadline, tls=self.context, handlers=(_no_redirects()(),))
            try:
                with opener.open(request, timeout=seconds) as response:
                    answer = response.read(MAX_RESPONSE)
                if deadline.cut:
                    raise TimeoutError
            except urllib.error.HTTPError as error:
                body = error.read(MAX_RESPONSE) if error.fp is not None else b""
                error.close()
                raise self._refused(error.code, body) from None
            except urllib.error.URLError as error:
                raise self._unreachable(error.reason, deadline.expired) from None
            except (HTTPException, OSError) as error:
                raise self._unreachable(error, deadline.expired) from None
        result = _json(answer).get("result")
        message_id = result.get("message_id") if isinstance(result, dict) else None
        return message_id if isinstance(message_id, int) else None

    def _refused(self, code: int, body: bytes) -> DeliveryError:
        answer = _json(body)
        description = " ".join(str(answer.get("description") or "").split())[:200]
        reason = description or f"HTTP {code}"
        if code == 429:
            parameters = answer.get("parameters")
            wait = parameters.get("retry_after") if isinstance(parameters, dict) else None
            seconds = float(wait) if isinstance(wait, int | float) and wait > 0 else None
            message = _(
                "channel `{channel}`: Telegram limits the bot's messages ({reason}); the rest "
                "goes out after {s:g}s"
            )
            if seconds is None:
                message = _(
                    "channel `{channel}`: Telegram limits the bot's messages ({reason}); the "
                    "rest goes out later"
                )
            return DeliveryError(
                message.format(channel=self.name, reason=reason, s=seconds or 0),
                channel_down=True,
                retry_after=seconds,
            )
        if code in (401, 404) or 300 <= code < 400:
            # the token or the API address is wrong: every row of the channel fails alike
            return DeliveryError(
                _("channel `{channel}`: the Telegram API {where} refused the bot: {reason}").format(
                    channel=self.name, where=self.where, reason=reason
                ),
                channel_down=True,
                hint=_(
                    "check the bot token in the variable named by `token` (BotFather's "
                    "/token) and `api_url`"
                ),
            )
        if 400 <= code < 500:
            return DeliveryError(
                _("channel `{channel}`: Telegram refused the message: {reason}").format(
                    channel=self.name, reason=reason
                ),
                permanent=True,
                hint=_(
                    "for a channel, the bot must be one of its administrators allowed to "
                    "post; a person must have started the bot and not blocked it"
                ),
            )
        return DeliveryError(
            _("channel `{channel}`: the Telegram API {where} answered HTTP {code}").format(
                channel=self.name, where=self.where, code=code
            ),
            channel_down=True,
        )

    def _too_slow(self) -> DeliveryError:
        return DeliveryError(
            _(
                "channel `{channel}`: the Telegram API {where} is too slow: the messages did "
                "not go out within {s:g}s"
            ).format(channel=self.name, where=self.where, s=self.timeout),
            channel_down=True,
        )

    def _unreachable(self, reason: object, too_late: bool) -> DeliveryError:
        import ssl

        if isinstance(reason, ssl.SSLCertVerificationError):
            return untrusted(self.name, self.where, reason)
        if isinstance(reason, TimeoutError) or too_late:
            return self._too_slow()
        text = short_reason(reason) if isinstance(reason, BaseException) else str(reason)
        return DeliveryError(
            _("channel `{channel}`: cannot reach the Telegram API {where}: {reason}").format(
                channel=self.name, where=self.where, reason=text
            ),
            channel_down=True,
        )


def _json(body: bytes) -> dict[str, Any]:
    """The Bot API's JSON answer, or {} for anything else."""
    try:
        answer = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {}
    return answer if isinstance(answer, dict) else {}


@lru_cache(maxsize=1)
def _no_redirects() -> type:
    """The redirect handler of every opener (urllib is imported on first use)."""
    import urllib.request

    class NoRedirects(urllib.request.HTTPRedirectHandler):
        """Turns every redirect into the HTTPError of the 3xx answer: a token in the path
        is never sent to another address."""

        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    return NoRedirects
