"""OpenPGP public keys for ArgoCD commit verification, checked before they reach `argocd-gpg-keys-cm`.

Why parse the key at all: a key id in the fleet file that does not belong to the armored key next to it would make
ArgoCD refuse every sync (or, worse, trust a key nobody reviewed), and a pasted *private* key block must never
reach Git. So the armor (RFC 4880 §6: base64 + CRC-24) is decoded, the first packet must be a public-key packet
(tag 6; a secret-key packet, tag 5, is refused), its fingerprint is computed (v4: SHA-1 over 0x99 + length +
body; v5/v6: SHA-256 over 0x9A/0x9B + 4-byte length + body) and the configured id must be the fingerprint or its
last 16 hex digits (the "long key id" ArgoCD's `signatureKeys[].keyID` and the ConfigMap keys use). Only the
standard library is used: no gpg binary needed to render.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from converter.model import ToolError

PUBLIC_BEGIN = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
PUBLIC_END = "-----END PGP PUBLIC KEY BLOCK-----"
PRIVATE_MARK = re.compile(r"-----BEGIN PGP (PRIVATE|SECRET) KEY|PRIVATE KEY-----")
KEY_ID = re.compile(r"^(?:[0-9A-F]{16}|[0-9A-F]{40}|[0-9A-F]{64})$")
_ARMOR_HEADER = re.compile(r"^[A-Za-z][A-Za-z0-9-]*: .*$")


@dataclass(frozen=True)
class PublicKey:
    """One verified signing key: `key_id` is the 16-hex long id (upper case), `armored` the normalised block."""

    key_id: str
    fingerprint: str
    armored: str


def normalise_key_id(value: object, where: str) -> str:
    """A key id as ArgoCD wants it: 16 (long id), 40 (v4) or 64 (v6) hex digits, upper case, no `0x`/spaces."""
    text = re.sub(r"\s+", "", str(value or "")).upper()
    if text.startswith("0X"):
        text = text[2:]
    if not KEY_ID.match(text):
        raise ToolError(f"{where}: {value!r} is not a GPG key id (16 hex digits) or fingerprint (40/64 hex digits)")
    return text


def _crc24(data: bytes) -> int:
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def _dearmor(text: str, where: str) -> bytes:
    lines = [ln.strip() for ln in text.strip().splitlines()]
    if not lines or lines[0] != PUBLIC_BEGIN or PUBLIC_END not in lines:
        raise ToolError(f"{where}: not an ASCII-armored public key ({PUBLIC_BEGIN} ... {PUBLIC_END})")
    if lines.count(PUBLIC_BEGIN) != 1:
        raise ToolError(f"{where}: one public key block per entry")
    body = lines[1:lines.index(PUBLIC_END)]
    while body and _ARMOR_HEADER.match(body[0]):
        body.pop(0)
    checksum = None
    if body and body[-1].startswith("="):
        checksum = body.pop()[1:]
    try:
        data = base64.b64decode("".join(ln for ln in body if ln), validate=True)
    except (binascii.Error, ValueError):
        raise ToolError(f"{where}: the armored key is not valid base64") from None
    if checksum is not None:
        try:
            want = int.from_bytes(base64.b64decode(checksum, validate=True), "big")
        except (binascii.Error, ValueError):
            raise ToolError(f"{where}: the armor checksum is not valid base64") from None
        if want != _crc24(data):
            raise ToolError(f"{where}: the armor checksum does not match (the key was damaged when copied)")
    if not data:
        raise ToolError(f"{where}: the armored key is empty")
    return data


def _first_packet(data: bytes, where: str) -> tuple[int, bytes]:
    """(tag, body) of the first OpenPGP packet (old and new packet formats, RFC 4880 §4.2)."""
    head = data[0]
    if not head & 0x80:
        raise ToolError(f"{where}: not an OpenPGP packet stream")
    if head & 0x40:  # new format
        tag, pos = head & 0x3F, 1
        if pos >= len(data):
            raise ToolError(f"{where}: truncated key")
        o1 = data[pos]
        if o1 < 192:
            length, pos = o1, pos + 1
        elif o1 < 224:
            if pos + 1 >= len(data):
                raise ToolError(f"{where}: truncated key")
            length, pos = ((o1 - 192) << 8) + data[pos + 1] + 192, pos + 2
        elif o1 == 255:
            length, pos = int.from_bytes(data[pos + 1:pos + 5], "big"), pos + 5
        else:
            raise ToolError(f"{where}: partial-length packet where a key packet belongs")
    else:
        tag, ltype = (head >> 2) & 0x0F, head & 0x03
        if ltype == 3:
            raise ToolError(f"{where}: indeterminate-length packet where a key packet belongs")
        n = (1, 2, 4)[ltype]
        length, pos = int.from_bytes(data[1:1 + n], "big"), 1 + n
    body = data[pos:pos + length]
    if len(body) != length:
        raise ToolError(f"{where}: truncated key")
    return tag, body


def fingerprint(body: bytes, where: str) -> str:
    version = body[0] if body else 0
    if version == 4:
        return hashlib.sha1(b"\x99" + len(body).to_bytes(2, "big") + body).hexdigest().upper()  # noqa: S324 (RFC 4880)
    if version in (5, 6):
        prefix = b"\x9a" if version == 5 else b"\x9b"
        return hashlib.sha256(prefix + len(body).to_bytes(4, "big") + body).hexdigest().upper()
    raise ToolError(f"{where}: OpenPGP key version {version} is not supported (v4, v5, v6)")


def long_id(fpr: str) -> str:
    """The 16-hex key id of a fingerprint: the last 8 octets for v4, the first 8 for v5/v6 (RFC 9580 §5.5.4)."""
    return fpr[-16:] if len(fpr) == 40 else fpr[:16]


def parse_public_key(key_id: object, armored: object, where: str) -> PublicKey:
    """Check one `{id, publicKey}` entry of the fleet file; ToolError (one line naming the entry) otherwise."""
    if not isinstance(armored, str) or not armored.strip():
        raise ToolError(f"{where}.publicKey: an ASCII-armored public key is required")
    if PRIVATE_MARK.search(armored):
        raise ToolError(f"{where}.publicKey: this is a PRIVATE key block — never put a private key in the fleet file "
                        "(export the public half: gpg --armor --export KEYID)")
    tag, body = _first_packet(_dearmor(armored, f"{where}.publicKey"), f"{where}.publicKey")
    if tag in (5, 7):
        raise ToolError(f"{where}.publicKey: this is a secret-key packet — never put a private key in the fleet file")
    if tag != 6:
        raise ToolError(f"{where}.publicKey: the first packet is not a public key (tag {tag})")
    fpr = fingerprint(body, f"{where}.publicKey")
    lid = long_id(fpr)
    if key_id is None or key_id == "":
        wanted = lid
    else:
        wanted = normalise_key_id(key_id, f"{where}.id")
        if wanted not in (fpr, lid):
            raise ToolError(f"{where}.id: {wanted} is not the id of this key (fingerprint {fpr}, key id {lid})")
    lines = [ln.rstrip() for ln in armored.strip().splitlines()]
    return PublicKey(key_id=lid, fingerprint=fpr, armored="\n".join(lines) + "\n")


def read_public_key_file(path: str) -> PublicKey:
    """`fleet init --signing-key FILE`: an exported public key (gpg --armor --export KEYID > FILE)."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ToolError(f"cannot read the signing key: {getattr(exc, 'strerror', None) or exc}", source=path) from None
    try:
        return parse_public_key(None, text, "--signing-key")
    except ToolError as exc:
        raise ToolError(str(exc), source=path) from None
