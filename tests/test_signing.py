"""Signed clearance against the real OpenSSH: keys made by `ssh-keygen -t ed25519`, our
signatures checked by `ssh-keygen -Y verify`, ssh-keygen's signatures checked by ours, and
every key or signature that must be refused refused with the message a press officer reads.
"""

from __future__ import annotations

import base64
import functools
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from crisiscomm.errors import RefusedError, SignatureError
from crisiscomm.office.signing import fingerprint, public_key_of, sign, verify

if shutil.which("ssh-keygen") is None and not os.environ.get("CI"):
    pytest.skip(
        "ssh-keygen is not installed (openssh-client; CI installs it)", allow_module_level=True
    )

NAMESPACE = "crisiscomm-clearance"
PASSPHRASE = "dam breach 2024"
APPROVAL = (
    b"incident INC-2024-017\n"
    b"statement holding-statement v3 sha256:9f2c4e1b7a0d6e35c8a1f4b2e7d9c0a6\n"
    b"decision approve\n"
)
NEW_KEY = "make an Ed25519 key with `ssh-keygen -t ed25519`; office.yaml takes its .pub line"
ASK_SIGNER = "ask the signer for the signature exactly as `ssh-keygen -Y sign` wrote it"
DAMAGED_KEY = (
    "the private key file is damaged",
    "use the key file as `ssh-keygen` wrote it, or make a new key",
)


def ssh_keygen(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["ssh-keygen", *args], input=stdin, capture_output=True, timeout=30)


@pytest.fixture(name="keys", scope="module")
def keys_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """alice and bob (no passphrase), carol (a passphrase), and keys of the wrong kinds."""
    folder = tmp_path_factory.mktemp("keys")
    for name, kind, passphrase in [
        ("alice", ["-t", "ed25519"], ""),
        ("bob", ["-t", "ed25519"], ""),
        ("carol", ["-t", "ed25519"], PASSPHRASE),
        ("rsa", ["-t", "rsa", "-b", "2048"], ""),
        ("ecdsa", ["-t", "ecdsa"], ""),
        ("rsa-pem", ["-t", "rsa", "-b", "2048", "-m", "PEM"], ""),
    ]:
        done = ssh_keygen("-q", *kind, "-N", passphrase, "-C", name, "-f", str(folder / name))
        assert done.returncode == 0, done.stderr
    return folder


def private(keys: Path, name: str) -> bytes:
    return (keys / name).read_bytes()


def public(keys: Path, name: str) -> str:
    return (keys / f"{name}.pub").read_text()


def ssh_fingerprint(keys: Path, name: str) -> str:
    return ssh_keygen("-l", "-f", str(keys / f"{name}.pub")).stdout.decode().split()[1]


def ssh_sign(keys: Path, name: str, folder: Path, *options: str) -> str:
    """What `ssh-keygen -Y sign` writes for APPROVAL."""
    message = folder / "approval.txt"
    message.write_bytes(APPROVAL)
    Path(f"{message}.sig").unlink(missing_ok=True)
    done = ssh_keygen(
        "-Y", "sign", "-f", str(keys / name), "-n", NAMESPACE, *options, str(message),
        stdin=f"{PASSPHRASE}\n".encode(),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return Path(f"{message}.sig").read_text()


def ssh_verify(keys: Path, name: str, folder: Path, signature: str, message: bytes) -> str:
    """`ssh-keygen -Y verify` of `signature` as `name`'s; its output, or AssertionError."""
    (folder / "allowed_signers").write_text(f"{name}@press.example.uz {public(keys, name)}")
    (folder / "approval.sig").write_text(signature)
    done = ssh_keygen(
        "-Y", "verify", "-f", str(folder / "allowed_signers"), "-I", f"{name}@press.example.uz",
        "-n", NAMESPACE, "-s", str(folder / "approval.sig"),
        stdin=message,
    )  # fmt: skip
    assert done.returncode == 0, (done.stdout + done.stderr).decode()
    return done.stdout.decode().strip()


def refusal(call: Callable[[], object]) -> tuple[str, str | None]:
    """The message and hint of the SignatureError `call` raises, with no chained traceback."""
    with pytest.raises(SignatureError) as caught:
        call()
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__ or caught.value.__context__ is None
    return caught.value.message, caught.value.hint


def our_signature(keys: Path, name: str = "alice", message: bytes = APPROVAL) -> str:
    passphrase = PASSPHRASE if name == "carol" else None
    return sign(
        private_key=private(keys, name), passphrase=passphrase, namespace=NAMESPACE, message=message
    )


def refused_to_verify(
    public_key: str, signature: str, *, namespace: str = NAMESPACE, message: bytes = APPROVAL
) -> tuple[str, str | None]:
    return refusal(
        lambda: verify(
            public_key=public_key, signature=signature, namespace=namespace, message=message
        )
    )


def wire(*fields: bytes) -> bytes:
    return b"".join(len(field).to_bytes(4, "big") + field for field in fields)


def armored(blob: bytes) -> str:
    body = base64.b64encode(blob).decode()
    return f"-----BEGIN SSH SIGNATURE-----\n{body}\n-----END SSH SIGNATURE-----\n"


def unarmored(signature: str) -> bytes:
    return base64.b64decode("".join(signature.strip().splitlines()[1:-1]))


@pytest.mark.parametrize("name", ["alice", "carol"])
def test_our_signature_is_byte_for_byte_what_ssh_keygen_writes(
    keys: Path, tmp_path: Path, name: str
) -> None:
    assert our_signature(keys, name) == ssh_sign(keys, name, tmp_path)


@pytest.mark.parametrize("name", ["alice", "carol"])
def test_ssh_keygen_verifies_our_signature(keys: Path, tmp_path: Path, name: str) -> None:
    said = ssh_verify(keys, name, tmp_path, our_signature(keys, name), APPROVAL)
    assert said == (
        f'Good "{NAMESPACE}" signature for {name}@press.example.uz with ED25519 key '
        f"{ssh_fingerprint(keys, name)}"
    )
    with pytest.raises(AssertionError, match="Signature verification failed"):
        ssh_verify(keys, name, tmp_path, our_signature(keys, name), APPROVAL + b"reject\n")


@pytest.mark.parametrize("options", [(), ("-O", "hashalg=sha256")], ids=["sha512", "sha256"])
def test_we_verify_what_ssh_keygen_signs(
    keys: Path, tmp_path: Path, options: tuple[str, ...]
) -> None:
    signature = ssh_sign(keys, "carol", tmp_path, *options)
    carol = public(keys, "carol")
    verify(public_key=carol, signature=signature, namespace=NAMESPACE, message=APPROVAL)


def test_public_key_and_fingerprint_agree_with_ssh_keygen(keys: Path) -> None:
    for name, passphrase in [("alice", None), ("carol", PASSPHRASE)]:
        line = public_key_of(private(keys, name), passphrase)
        assert line.split() == public(keys, name).split()[:2]
        assert fingerprint(line) == ssh_fingerprint(keys, name)
    # any kind of key has a fingerprint, as with `ssh-keygen -l`; options may stand before it
    assert fingerprint(public(keys, "rsa")) == ssh_fingerprint(keys, "rsa")
    bob = f'restrict,command="true" {public(keys, "bob")}'
    assert fingerprint(bob) == ssh_fingerprint(keys, "bob")


def test_a_passphrase_given_for_a_key_without_one_is_not_needed(keys: Path) -> None:
    alice = private(keys, "alice")
    assert public_key_of(alice, "anything") == public_key_of(alice, None)


def test_a_signature_refusal_is_a_refusal() -> None:
    assert issubclass(SignatureError, RefusedError)
    assert SignatureError("x").exit_code == 1


def test_a_changed_text_is_refused(keys: Path) -> None:
    changed = APPROVAL.replace(b"v3", b"v4")
    assert refused_to_verify(public(keys, "alice"), our_signature(keys), message=changed) == (
        "the signature does not match this text: it was changed after signing",
        "check the text against the signed version; if it is right, sign it again",
    )


def test_a_signature_made_for_another_purpose_is_refused(keys: Path) -> None:
    signature = our_signature(keys)
    assert refused_to_verify(public(keys, "alice"), signature, namespace="git") == (
        "the signature was made for `crisiscomm-clearance`, not for `git`",
        "a signature made for one purpose does not count for another: sign again",
    )


@pytest.mark.parametrize("signer", ["bob", "rsa"])
def test_a_signature_by_another_persons_key_is_refused(
    keys: Path, tmp_path: Path, signer: str
) -> None:
    signature = ssh_sign(keys, signer, tmp_path)
    assert refused_to_verify(public(keys, "alice"), signature) == (
        f"the signature was made with another key ({ssh_fingerprint(keys, signer)}), "
        f"not with {ssh_fingerprint(keys, 'alice')}",
        "the person named did not sign this: check who signed it, and their key",
    )


def test_damaged_signatures_are_refused(keys: Path) -> None:
    good = our_signature(keys)
    blob = unarmored(good)
    key_blob, raw = base64.b64decode(public(keys, "alice").split()[1]), blob[-64:]

    def sshsig(
        *, version: int = 1, hash_algorithm: bytes = b"sha512", kind: bytes = b"ssh-ed25519"
    ) -> bytes:
        fields = [key_blob, NAMESPACE.encode(), b"", hash_algorithm, wire(kind, raw)]
        return b"SSHSIG" + version.to_bytes(4, "big") + wire(*fields)

    assert sshsig() == blob  # the test builds signatures as PROTOCOL.sshsig draws them
    not_armored = (
        "this is not an SSH signature: one runs from -----BEGIN SSH SIGNATURE----- "
        "to -----END SSH SIGNATURE-----"
    )
    damaged = "the signature is damaged"
    for signature, message in [
        ("", not_armored),
        ("I approve. Alice", not_armored),
        (good.replace("-----END SSH SIGNATURE-----", ""), not_armored),
        (good.replace("\n", "\n*", 1), damaged),  # not base64
        (armored(blob[:60]), damaged),  # cut short
        (armored(b"SSHSIH" + blob[6:]), damaged),
        (armored(sshsig(version=2)), damaged),
        (armored(blob + b"\0"), damaged),  # something after the signature
        (armored(sshsig(hash_algorithm=b"md5")), damaged),
    ]:
        assert refused_to_verify(public(keys, "alice"), signature) == (message, ASK_SIGNER)
    # the right key, but a signature that claims another algorithm
    mislabelled = armored(sshsig(kind=b"rsa-sha2-512"))
    assert refused_to_verify(public(keys, "alice"), mislabelled)[0] == (
        "the signature does not match this text: it was changed after signing"
    )
    # the armor's line breaks and the blank lines around it do not matter
    alice = public(keys, "alice")
    rewrapped = f"\n\n{armored(blob)}\n"
    verify(public_key=alice, signature=rewrapped, namespace=NAMESPACE, message=APPROVAL)


def test_unusable_public_keys_are_refused(keys: Path) -> None:
    alice = our_signature(keys)
    kind, body = public(keys, "alice").split()[:2]
    pub_line = "give the line of the key's .pub file: `ssh-ed25519 AAAA... name`"
    for public_key, expected in [
        ("", ("no public key", pub_line)),
        ("alice", ("`alice` is not an SSH public key", pub_line)),
        ("ssh-ed25519 AAAA alice", ("`ssh-ed25519 AAAA alice` is not an SSH public key", pub_line)),
        (
            f"{kind} {body[:-8]} alice",
            (
                "the Ed25519 public key is damaged",
                "copy the whole line of the key's .pub file again",
            ),
        ),
        (
            public(keys, "rsa"),
            ("this is an RSA key; crisiscomm signs with Ed25519 keys only", NEW_KEY),
        ),
        (
            public(keys, "ecdsa"),
            ("this is an ECDSA key; crisiscomm signs with Ed25519 keys only", NEW_KEY),
        ),
    ]:
        assert refused_to_verify(public_key, alice) == expected, public_key


def test_unusable_private_keys_are_refused(keys: Path) -> None:
    carol, alice = private(keys, "carol"), private(keys, "alice")
    not_openssh = (
        "this is not an Ed25519 private key in OpenSSH form",
        "give the key file `ssh-keygen -t ed25519` wrote, e.g. ~/.ssh/id_ed25519",
    )
    no_passphrase = (
        "the key is protected by a passphrase, and none was given",
        "give the passphrase you chose when you made the key",
    )
    for key, passphrase, expected in [
        (
            carol,
            "dam breach 2025",
            (
                "the passphrase does not open this key",
                "type the passphrase again; `ssh-keygen -y -f KEY` tells if it opens the key",
            ),
        ),
        (carol, None, no_passphrase),
        (carol, "", no_passphrase),
        (
            private(keys, "rsa"),
            None,
            ("this is an RSA key; crisiscomm signs with Ed25519 keys only", NEW_KEY),
        ),
        (
            private(keys, "ecdsa"),
            None,
            ("this is an ECDSA key; crisiscomm signs with Ed25519 keys only", NEW_KEY),
        ),
        (private(keys, "rsa-pem"), None, not_openssh),
        (b"", None, not_openssh),
        (b"\x00\x9f\xffnot a key at all", None, not_openssh),
        (
            public(keys, "alice").encode(),
            None,
            (
                "this is a public key, not a private key",
                "give the private key file: the one without .pub",
            ),
        ),
        (alice[:300] + b"\n-----END OPENSSH PRIVATE KEY-----\n", None, DAMAGED_KEY),
        (alice.replace(b"b3BlbnNzaC1rZXktdjE", b"b3BlbnNzaC1rZXktdjI"), None, DAMAGED_KEY),
    ]:
        assert refusal(functools.partial(public_key_of, key, passphrase)) == expected
        signing = functools.partial(
            sign, private_key=key, passphrase=passphrase, namespace=NAMESPACE, message=APPROVAL
        )
        assert refusal(signing) == expected


def test_a_key_locked_with_a_cipher_we_cannot_open_says_how_to_relock_it(tmp_path: Path) -> None:
    key, cipher = tmp_path / "dave", "chacha20-poly1305@openssh.com"
    made = ssh_keygen("-q", "-t", "ed25519", "-N", PASSPHRASE, "-Z", cipher, "-f", str(key))
    assert made.returncode == 0, made.stderr
    assert refusal(lambda: public_key_of(key.read_bytes(), PASSPHRASE)) == (
        f"the key is locked with the cipher `{cipher}`, which crisiscomm cannot open",
        "lock it with the usual cipher: `ssh-keygen -p -Z aes256-ctr -f KEY`",
    )
    relock = ssh_keygen(
        "-p", "-P", PASSPHRASE, "-N", PASSPHRASE, "-Z", "aes256-ctr", "-f", str(key)
    )
    assert relock.returncode == 0, relock.stderr
    line = public_key_of(key.read_bytes(), PASSPHRASE)
    assert line.split() == Path(f"{key}.pub").read_text().split()[:2]


def test_a_signature_needs_a_namespace(keys: Path) -> None:
    alice = private(keys, "alice")
    assert refusal(
        lambda: sign(private_key=alice, passphrase=None, namespace="", message=APPROVAL)
    ) == ("a signature needs a namespace: what it is for", None)
