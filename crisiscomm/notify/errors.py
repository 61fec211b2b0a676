"""The error a channel raises when a notification cannot be delivered."""

from __future__ import annotations

from crisiscomm.errors import CrisisCommError

__all__ = ["DeliveryError", "short_reason"]


class DeliveryError(CrisisCommError):
    """A notification could not be delivered; the message never holds a secret.

    `permanent`: trying again cannot help (the pinned playbook has no such channel, the
    recipient is not an e-mail address, the server refused it for good): the row becomes a
    dead letter at once. `channel_down`: the channel as a whole failed (unreachable server,
    missing variable, refused login), so its other rows wait with this one instead of each
    waiting for its own timeout. `retry_after`: the receiver asked not to be sent anything
    for that many seconds (Telegram's 429): the next attempt is no sooner.
    """

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        channel_down: bool = False,
        hint: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.permanent = permanent
        self.channel_down = channel_down
        self.retry_after = retry_after


def short_reason(error: BaseException) -> str:
    """The short reason of a library's error (`Connection refused`), not its repr.

    Errors about the URL itself (http.client.InvalidURL, ValueError) can quote it, and a
    token in it: only their kind is given.
    """
    if isinstance(error, OSError) and error.strerror:
        return str(error.strerror)
    from http.client import HTTPException

    if isinstance(error, HTTPException | ValueError):
        return type(error).__name__
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
