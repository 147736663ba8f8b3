"""Signed checkpoints in the C2SP ``tlog-checkpoint`` / ``signed-note`` form, with Ed25519.

    <origin>
    <tree size>
    <base64 root hash>
    relais-persons <persons> <base64 root of the person index>
    <blank line>
    — <key name> <base64(4-byte key id || 64-byte signature)>

The fourth line is an extension line: the root of the person index (one leaf per person: their
pseudonymous id, how many events they have and the head of their own chain), so that every
checkpoint commits to each person's complete list. The key id is the first four bytes of
SHA-256(name || 0x0A || 0x01 || public key), and the verifier key is published as
``<name>+<hex key id>+<base64(0x01 || public key)>``.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = b"\x01"
PERSONS_LINE = "relais-persons"


class CheckpointError(ValueError):
    """A checkpoint that is malformed or whose signature does not verify."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    persons: int
    persons_root: bytes

    def body(self) -> str:
        return (
            f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"
            f"{PERSONS_LINE} {self.persons} {base64.b64encode(self.persons_root).decode()}\n"
        )


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public).digest()[:4]


def public_bytes(key: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def verifier_key(name: str, key: Ed25519PublicKey) -> str:
    raw = public_bytes(key)
    return f"{name}+{key_id(name, raw).hex()}+{base64.b64encode(ED25519 + raw).decode()}"


def parse_verifier_key(text: str) -> tuple[str, Ed25519PublicKey]:
    try:
        name, hex_id, encoded = text.strip().split("+", 2)
        raw = base64.b64decode(encoded, validate=True)
    except ValueError:
        raise CheckpointError("not a verifier key (<name>+<id>+<key>)") from None
    if raw[:1] != ED25519 or len(raw) != 33 or key_id(name, raw[1:]).hex() != hex_id:
        raise CheckpointError("the verifier key is not a valid Ed25519 note key")
    return name, Ed25519PublicKey.from_public_bytes(raw[1:])


def sign(checkpoint: Checkpoint, key: Ed25519PrivateKey, name: str | None = None) -> str:
    name = name or checkpoint.origin
    body = checkpoint.body()
    signature = key.sign(body.encode())
    stamp = base64.b64encode(key_id(name, public_bytes(key.public_key())) + signature).decode()
    return f"{body}\n\u2014 {name} {stamp}\n"


def _parse_body(body: str) -> Checkpoint:
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise CheckpointError("a checkpoint has an origin, a size and a root, each on a line")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not origin or not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise CheckpointError("malformed origin or size")
    try:
        root = base64.b64decode(root_text, validate=True)
    except ValueError:
        raise CheckpointError("the root is not base64") from None
    persons, persons_root = 0, b""
    for extension in lines[3:-1]:
        parts = extension.split(" ")
        if parts[0] == PERSONS_LINE and len(parts) == 3 and parts[1].isdigit():
            persons, persons_root = int(parts[1]), base64.b64decode(parts[2], validate=True)
    if len(root) != 32:
        raise CheckpointError("the root is not 32 bytes")
    return Checkpoint(origin, int(size_text), root, persons, persons_root)


def open_note(note: str, name: str, key: Ed25519PublicKey) -> Checkpoint:
    """Parse a signed checkpoint and check its signature by ``name``'s ``key``."""
    body, sep, signatures = note.partition("\n\n")
    if not sep:
        raise CheckpointError("a signed note has a blank line before its signatures")
    body += "\n"
    expected = key_id(name, public_bytes(key))
    for line in signatures.split("\n"):
        if not line.startswith("\u2014 "):
            continue
        try:
            signer, stamp = line[2:].split(" ")
            raw = base64.b64decode(stamp, validate=True)
        except ValueError:
            continue
        if signer != name or raw[:4] != expected or len(raw) != 68:
            continue
        try:
            key.verify(raw[4:], body.encode())
        except InvalidSignature:
            raise CheckpointError("the checkpoint signature does not verify") from None
        return _parse_body(body)
    raise CheckpointError(f"the checkpoint carries no signature by {name}")
