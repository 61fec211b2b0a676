"""TLS for the smtp and webhook channels: certificates are always verified, against the
system's certificate authorities or, with the channel's `ca_file`, against the
organisation's own (a ministry's mail server or chat with an internal CA).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crisiscomm.i18n import _
from crisiscomm.notify.errors import DeliveryError

if TYPE_CHECKING:
    import ssl

__all__ = ["ca_file_problem", "tls_context", "untrusted"]


def tls_context(channel: str, ca_file: str | None) -> ssl.SSLContext:
    """A verifying client context; a DeliveryError (the channel's rows wait: the file can be
    put right) when `ca_file` cannot be used."""
    import ssl

    if ca_file is None:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=ca_file)
    except OSError as error:  # ssl.SSLError is one too
        raise DeliveryError(
            _("channel `{channel}`: {problem}").format(
                channel=channel, problem=_ca_file_text(ca_file, error)
            ),
            channel_down=True,
            hint=_("`ca_file` names a PEM file of the certificate authorities to trust"),
        ) from None


def ca_file_problem(ca_file: str) -> str | None:
    """What keeps `ca_file` from being used (it is read as `serve` would), or None."""
    import ssl

    try:
        ssl.create_default_context(cafile=ca_file)
    except OSError as error:
        return _ca_file_text(ca_file, error)
    return None


def _ca_file_text(ca_file: str, error: OSError) -> str:
    import ssl

    if isinstance(error, ssl.SSLError):
        return _("`ca_file` {path} holds no certificate in PEM form").format(path=ca_file)
    if isinstance(error, FileNotFoundError):
        return _("`ca_file` {path} does not exist").format(path=ca_file)
    if isinstance(error, IsADirectoryError):
        return _("`ca_file` {path} is a folder, not a file").format(path=ca_file)
    return _("`ca_file` {path} cannot be read: {reason}").format(
        path=ca_file, reason=error.strerror or type(error).__name__
    )


def untrusted(channel: str, where: str, error: ssl.SSLCertVerificationError) -> DeliveryError:
    """The failure when a server's certificate does not verify (the rows wait: certificates
    and `ca_file` can be put right)."""
    reason = error.verify_message or error.reason or type(error).__name__
    return DeliveryError(
        _("channel `{channel}`: the certificate of {where} is not trusted: {reason}").format(
            channel=channel, where=where, reason=reason
        ),
        channel_down=True,
        hint=_(
            "if the server's certificate comes from your organisation's own certificate "
            "authority, give the channel `ca_file:` with that authority's PEM file; "
            "otherwise check the host name and the server's certificate"
        ),
    )
