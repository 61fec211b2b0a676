"""Signed clearance: OpenSSH SSHSIG signatures made with a person's Ed25519 key.

An approval, trigger approval, release or withdrawal can be signed so that an auditor
checks it with OpenSSH alone, years later and without crisiscomm:

    ssh-keygen -Y verify -f allowed_signers -I PERSON -n NAMESPACE -s SIGFILE < MESSAGE

`sign` writes exactly what `ssh-keygen -Y sign -n NAMESPACE` writes for the same key and
message (Ed25519 signatures are deterministic: the two are byte for byte the same), and
`verify` accepts what ssh-keygen writes. The format (OpenSSH's PROTOCOL.sshsig), in the SSH
wire encoding (uint32 big-endian; a string is a uint32 length, then the bytes):

    byte[6] "SSHSIG"   uint32 1 (version)   string public key blob
    string namespace   string reserved ("")   string hash algorithm ("sha512")
    string signature blob: string "ssh-ed25519", string the 64-byte Ed25519 signature

armored as base64 in lines of 70 between `-----BEGIN SSH SIGNATURE-----` and `-----END SSH
SIGNATURE-----`. The key signs not the message but "SSHSIG", namespace, reserved, hash
algorithm and H(message) (SHA-512; SHA-256 is accepted when verifying, as by ssh-keygen).
The namespace keeps a signature made for one purpose from vouching for another. Keys are
OpenSSH files as `ssh-keygen -t ed25519` writes them, with a passphrase or without; public
keys are authorized_keys lines (`ssh-ed25519 AAAA... comment`).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import textwrap

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_ssh_private_key,
)

from crisiscomm.errors import SignatureError
from crisiscomm.i18n import _

__all__ = ["fingerprint", "public_key_of", "sign", "verify"]

_ED25519 = b"ssh-ed25519"
_MAGIC = b"SSHSIG"
_VERSION = (1).to_bytes(4, "big")
_ARMOR = ("-----BEGIN SSH SIGNATURE-----", "-----END SSH SIGNATURE-----")
_KEY_ARMOR = ("-----BEGIN OPENSSH PRIVATE KEY-----", "-----END OPENSSH PRIVATE KEY-----")
_KEY_MAGIC = b"openssh-key-v1\0"
_HASHES = {b"sha512": hashlib.sha512, b"sha256": hashlib.sha256}
_KEY_TYPE_PREFIXES = ("ssh-", "ecdsa-", "sk-")


class _Reader:
    """Reads the SSH wire format: uint32 and length-prefixed strings; ValueError if short."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    def take(self, size: int) -> bytes:
        if size > len(self._data) - self._at:
            raise ValueError("truncated")
        self._at += size
        return self._data[self._at - size : self._at]

    def string(self) -> bytes:
        return self.take(int.from_bytes(self.take(4), "big"))

    def at_end(self) -> bool:
        return self._at == len(self._data)


def _string(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def _dearmor(text: str, armor: tuple[str, str]) -> bytes | None:
    """The bytes between an armor's BEGIN and END lines; None if it has no such armor;
    ValueError (binascii.Error) if they are not base64."""
    text = text.strip()
    if not (text.startswith(armor[0]) and text.endswith(armor[1])):
        return None
    return base64.b64decode("".join(text[len(armor[0]) : -len(armor[1])].split()), validate=True)


def _not_ed25519(key_type: bytes) -> SignatureError:
    text = key_type.decode("ascii", "replace")
    kind = _("a key of type `{type}`").format(type=text[:40])
    for start, name in [
        ("ssh-rsa", _("an RSA key")),
        ("ssh-dss", _("a DSA key")),
        ("ecdsa-", _("an ECDSA key")),
        ("sk-", _("a security-key (FIDO) key")),
    ]:
        kind = name if text.startswith(start) else kind
    return SignatureError(
        _("this is {kind}; crisiscomm signs with Ed25519 keys only").format(kind=kind),
        hint=_("make an Ed25519 key with `ssh-keygen -t ed25519`; office.yaml takes its .pub line"),
    )


def _private_key_type(data: bytes) -> tuple[str, bytes]:
    """An OpenSSH private key file's cipher (`none` if it has no passphrase) and key type,
    read from its clear part so that a wrong kind of key is named before any passphrase."""
    text = data.decode("ascii", "replace").strip()
    if text.startswith(_KEY_TYPE_PREFIXES):
        raise SignatureError(
            _("this is a public key, not a private key"),
            hint=_("give the private key file: the one without .pub"),
        )
    try:  # magic, cipher, kdf name, kdf options, number of keys (1), first public key
        blob = _dearmor(text, _KEY_ARMOR)
        if blob is None:  # garbage, or a key in another form (PEM, PKCS#8, PuTTY)
            raise SignatureError(
                _("this is not an Ed25519 private key in OpenSSH form"),
                hint=_("give the key file `ssh-keygen -t ed25519` wrote, e.g. ~/.ssh/id_ed25519"),
            )
        reader = _Reader(blob)
        magic, cipher = reader.take(len(_KEY_MAGIC)), reader.string()
        reader.string(), reader.string()
        if magic != _KEY_MAGIC or reader.take(4) != (1).to_bytes(4, "big"):
            raise ValueError("not an openssh-key-v1 file of one key")
        return cipher.decode("ascii", "replace")[:40], _Reader(reader.string()).string()
    except ValueError:  # binascii.Error is one
        raise _damaged_key() from None


def _damaged_key() -> SignatureError:
    return SignatureError(
        _("the private key file is damaged"),
        hint=_("use the key file as `ssh-keygen` wrote it, or make a new key"),
    )


def _private_key(data: bytes, passphrase: str | None) -> Ed25519PrivateKey:
    cipher, key_type = _private_key_type(data)
    encrypted = cipher != "none"
    if key_type != _ED25519:
        raise _not_ed25519(key_type)
    if encrypted and not passphrase:
        raise SignatureError(
            _("the key is protected by a passphrase, and none was given"),
            hint=_("give the passphrase you chose when you made the key"),
        )
    try:
        # a passphrase given for a key that has none is not needed: it is left aside
        key = load_ssh_private_key(data, passphrase.encode() if encrypted and passphrase else None)
    except ValueError:
        if not encrypted:
            raise _damaged_key() from None
        raise SignatureError(
            _("the passphrase does not open this key"),
            hint=_("type the passphrase again; `ssh-keygen -y -f KEY` tells if it opens the key"),
        ) from None
    except (TypeError, UnsupportedAlgorithm):
        raise SignatureError(
            _("the key is locked with the cipher `{cipher}`, which crisiscomm cannot open").format(
                cipher=cipher
            ),
            hint=_("lock it with the usual cipher: `ssh-keygen -p -Z aes256-ctr -f KEY`"),
        ) from None
    if not isinstance(key, Ed25519PrivateKey):  # the clear part said Ed25519, the rest not
        raise _damaged_key()
    return key


def _public_key_blob(public_key: str) -> tuple[bytes, bytes]:
    """The key type and wire blob of an authorized_keys-style line (options and comment
    may stand around `TYPE BASE64`)."""
    words = public_key.split()
    for word, following in itertools.pairwise(words):
        if word.startswith(_KEY_TYPE_PREFIXES):
            try:
                blob = base64.b64decode(following, validate=True)
                if _Reader(blob).string() == word.encode():
                    return word.encode(), blob
            except ValueError:
                pass
            break
    shown = public_key.strip()[:40] + ("..." if len(public_key.strip()) > 40 else "")
    raise SignatureError(
        _("`{text}` is not an SSH public key").format(text=shown) if shown else _("no public key"),
        hint=_("give the line of the key's .pub file: `ssh-ed25519 AAAA... name`"),
    )


def _ed25519_public_key(public_key: str) -> tuple[bytes, Ed25519PublicKey]:
    key_type, blob = _public_key_blob(public_key)
    if key_type != _ED25519:
        raise _not_ed25519(key_type)
    prefix = _string(_ED25519) + (32).to_bytes(4, "big")  # then the 32 bytes of the key
    if len(blob) != len(prefix) + 32 or not blob.startswith(prefix):
        raise SignatureError(
            _("the Ed25519 public key is damaged"),
            hint=_("copy the whole line of the key's .pub file again"),
        )
    return blob, Ed25519PublicKey.from_public_bytes(blob[len(prefix) :])


def _signed_data(namespace: bytes, hash_algorithm: bytes, digest: bytes) -> bytes:
    """What the Ed25519 signature covers: never the message itself, only its hash."""
    return _MAGIC + b"".join(map(_string, [namespace, b"", hash_algorithm, digest]))


def _public_blob(key: Ed25519PrivateKey) -> bytes:
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return _string(_ED25519) + _string(raw)


def _namespace(namespace: str) -> bytes:
    if not namespace:
        raise SignatureError(_("a signature needs a namespace: what it is for"))
    return namespace.encode("utf-8")


def sign(*, private_key: bytes, passphrase: str | None, namespace: str, message: bytes) -> str:
    """The armored SSH signature of `message`, as `ssh-keygen -Y sign -n NAMESPACE` writes."""
    key = _private_key(private_key, passphrase)
    space = _namespace(namespace)
    raw = key.sign(_signed_data(space, b"sha512", hashlib.sha512(message).digest()))
    fields = [_public_blob(key), space, b"", b"sha512", _string(_ED25519) + _string(raw)]
    text = base64.b64encode(_MAGIC + _VERSION + b"".join(map(_string, fields))).decode()
    return "\n".join([_ARMOR[0], *textwrap.wrap(text, 70), _ARMOR[1], ""])


def _parse(signature: str) -> tuple[bytes, bytes, bytes, bytes, bytes]:
    """Public key blob, namespace, hash algorithm, signature type and raw signature."""
    damaged = _("ask the signer for the signature exactly as `ssh-keygen -Y sign` wrote it")
    try:
        blob = _dearmor(signature, _ARMOR)
        if blob is None:
            raise SignatureError(
                _("this is not an SSH signature: one runs from {begin} to {end}").format(
                    begin=_ARMOR[0], end=_ARMOR[1]
                ),
                hint=damaged,
            )
        reader = _Reader(blob)
        if reader.take(len(_MAGIC) + 4) != _MAGIC + _VERSION:
            raise ValueError("not SSHSIG version 1")
        key, space, _reserved, hash_algorithm, inner_blob = (reader.string() for _i in range(5))
        inner = _Reader(inner_blob)
        signature_type, raw = inner.string(), inner.string()
        if not (reader.at_end() and inner.at_end()) or hash_algorithm not in _HASHES:
            raise ValueError("trailing data, or a hash that SSH signatures do not use")
    except ValueError:  # binascii.Error is one
        raise SignatureError(_("the signature is damaged"), hint=damaged) from None
    return key, space, hash_algorithm, signature_type, raw


def verify(*, public_key: str, signature: str, namespace: str, message: bytes) -> None:
    """Return if `signature` is `public_key`'s, for `namespace`, over `message`; else raise
    a SignatureError that says which of these fails."""
    expected_blob, key = _ed25519_public_key(public_key)
    space = _namespace(namespace)
    signer_blob, signed_space, hash_algorithm, signature_type, raw = _parse(signature)
    if signer_blob != expected_blob:
        raise SignatureError(
            _("the signature was made with another key ({theirs}), not with {ours}").format(
                theirs=_fingerprint(signer_blob), ours=_fingerprint(expected_blob)
            ),
            hint=_("the person named did not sign this: check who signed it, and their key"),
        )
    if signed_space != space:
        raise SignatureError(
            _("the signature was made for `{theirs}`, not for `{ours}`").format(
                theirs=signed_space.decode("utf-8", "replace")[:60], ours=namespace
            ),
            hint=_("a signature made for one purpose does not count for another: sign again"),
        )
    digest = _HASHES[hash_algorithm](message).digest()
    try:
        if signature_type != _ED25519:
            raise InvalidSignature
        key.verify(raw, _signed_data(space, hash_algorithm, digest))
    except InvalidSignature:
        raise SignatureError(
            _("the signature does not match this text: it was changed after signing"),
            hint=_("check the text against the signed version; if it is right, sign it again"),
        ) from None


def _fingerprint(blob: bytes) -> str:
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def public_key_of(private_key: bytes, passphrase: str | None) -> str:
    """The authorized_keys line (`ssh-ed25519 AAAA...`) of an Ed25519 private key file."""
    blob = _public_blob(_private_key(private_key, passphrase))
    return "ssh-ed25519 " + base64.b64encode(blob).decode("ascii")


def fingerprint(public_key: str) -> str:
    """The key's fingerprint as `ssh-keygen -l` prints it: `SHA256:` and unpadded base64."""
    return _fingerprint(_public_key_blob(public_key)[1])
