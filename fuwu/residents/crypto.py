"""Encrypting personal numbers at rest, the keyed hash used to find them, and rotating the key.

A number is stored twice, neither time in clear:

* encrypted: AES-256-GCM, a fresh 96-bit nonce per encryption, laid out as
  ``version 2 (1 byte) | key id (4) | nonce (12) | ciphertext + tag``. The row's lookup hash is the
  associated data, so a ciphertext copied onto another person's row fails to decrypt instead of
  showing the wrong number. (Version 1, written before rotation existed, has no key id.)
* hashed: HMAC-SHA256 of the normalised value, hex. Equal numbers have equal hashes, so lookups and
  the uniqueness constraint work without decrypting; without the key the hash cannot be brute-forced
  over the small space of valid identity numbers, as a plain SHA-256 could.

Keys are derived from one secret, ``settings.FUWU_PII_KEY`` (base64 of 32 random bytes), with HKDF and
a label per purpose (``id_number``, ``upload`` …), so no key is used for two purposes.

**Rotation.** Set the new secret as ``FUWU_PII_KEY`` and the old one in ``FUWU_PII_OLD_KEYS``; restart.
Everything new is written under the new key; old rows still decrypt (the key id picks the key) and are
still found (``lookup_hashes`` gives the hash under every configured key). Then
``fuwu residents rotate-key`` re-encrypts and re-hashes every column listed in ``ENCRYPTED_COLUMNS``,
a batch per transaction, skipping rows already under the new key, so it can be stopped and run again.
When it reports nothing left under an old key, remove ``FUWU_PII_OLD_KEYS``. ``docs/deploy.md`` has the
whole procedure.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from fuwu.residents.idnumber import IdNumber

LEGACY_VERSION = b"\x01"  # version | nonce | ciphertext; the key is whichever one decrypts
FORMAT_VERSION = b"\x02"  # version | key id | nonce | ciphertext
KEY_ID_BYTES = 4
NONCE_BYTES = 12
# The key settings.py falls back to outside production. It is public (it is in the
# source), so anything encrypted with it is as good as clear text; check --deploy warns.
DEVELOPMENT_KEY = "ZnV3dS1kZXZlbG9wbWVudC1waWkta2V5LTMyYnl0ZXM="


class DecryptionError(Exception):
    """The stored ciphertext does not open with the configured keys and this row's hash."""


def decode_key(encoded: str, *, setting: str = "FUWU_PII_KEY") -> bytes:
    """The 32 raw bytes of a base64 key; ImproperlyConfigured with the reason otherwise."""
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImproperlyConfigured(f"{setting} is not valid base64") from exc
    if len(key) != 32:
        raise ImproperlyConfigured(
            f"{setting} decodes to {len(key)} bytes; it must be 32 (generate one with: "
            'python -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())")'
        )
    return key


@dataclass(frozen=True)
class Key:
    key_id: bytes
    master: bytes

    def derive(self, label: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(self.master)

    def aead(self, purpose: str) -> AESGCM:
        return _aead(self.master, purpose)

    def hmac_key(self, purpose: str) -> bytes:
        return _hmac_key(self.master, purpose)


@cache
def _aead(master: bytes, purpose: str) -> AESGCM:
    return AESGCM(Key(b"", master).derive(f"fuwu residents {purpose} aes-256-gcm v1".encode()))


@cache
def _hmac_key(master: bytes, purpose: str) -> bytes:
    return Key(b"", master).derive(f"fuwu residents {purpose} hmac v1".encode())


@cache
def _key(encoded: str, setting: str) -> Key:
    # Cached per setting value, so tests that override the setting get their own keys.
    master = decode_key(encoded, setting=setting)
    # The id names the key without revealing it: derived, truncated, stored beside each ciphertext.
    key_id = Key(b"", master).derive(b"fuwu pii key id v1")[:KEY_ID_BYTES]
    return Key(key_id, master)


def current_key() -> Key:
    return _key(str(settings.FUWU_PII_KEY), "FUWU_PII_KEY")


def old_keys() -> list[Key]:
    return [_key(str(k), "FUWU_PII_OLD_KEYS") for k in getattr(settings, "FUWU_PII_OLD_KEYS", []) if k]


def key_ring() -> list[Key]:
    """The current key first, then the old ones still configured for a rotation."""
    ring = [current_key()]
    ring.extend(k for k in old_keys() if k.key_id != ring[0].key_id)
    return ring


# --- values of any purpose ------------------------------------------------------------------------------


def keyed_hash(value: str, *, purpose: str, key: Key | None = None) -> str:
    return hmac.new((key or current_key()).hmac_key(purpose), value.encode("utf-8"), hashlib.sha256).hexdigest()


def seal_text(value: str, *, purpose: str, aad: str) -> bytes:
    key = current_key()
    nonce = os.urandom(NONCE_BYTES)
    return FORMAT_VERSION + key.key_id + nonce + key.aead(purpose).encrypt(nonce, value.encode(), aad.encode())


def _candidates(data: bytes) -> Iterator[tuple[Key, bytes]]:
    """(key, nonce+ciphertext) to try for a stored value: the named key, or every key for version 1."""
    if data[:1] == FORMAT_VERSION:
        key_id = data[1 : 1 + KEY_ID_BYTES]
        for key in key_ring():
            if key.key_id == key_id:
                yield key, data[1 + KEY_ID_BYTES :]
                return
        raise DecryptionError(
            f"encrypted under key id {key_id.hex()}, which is not configured "
            "(add the old key to FUWU_PII_OLD_KEYS until `fuwu residents rotate-key` has finished)"
        )
    if data[:1] == LEGACY_VERSION:
        for key in key_ring():
            yield key, data[1:]
        return
    raise DecryptionError(f"unknown ciphertext format {data[:1]!r}")


def open_text_with_key(blob: bytes | memoryview, *, purpose: str, aad: str) -> tuple[str, Key]:
    """The clear value and the key that opened it."""
    data = bytes(blob)  # PostgreSQL hands back a memoryview
    for key, body in _candidates(data):
        nonce, sealed = body[:NONCE_BYTES], body[NONCE_BYTES:]
        try:
            return key.aead(purpose).decrypt(nonce, sealed, aad.encode()).decode(), key
        except InvalidTag:
            continue
    raise DecryptionError("the value does not decrypt with the configured keys and this row")


def open_text(blob: bytes | memoryview, *, purpose: str, aad: str) -> str:
    return open_text_with_key(blob, purpose=purpose, aad=aad)[0]


def under_current_key(blob: bytes | memoryview) -> bool:
    return key_state(blob) == "current"


def key_state(blob: bytes | memoryview) -> str:
    """``current``, ``old`` (in FUWU_PII_OLD_KEYS), ``unknown`` (a key not configured) or ``legacy`` (version 1)."""
    data = bytes(blob[: 1 + KEY_ID_BYTES])
    if data[:1] != FORMAT_VERSION:
        return "legacy"
    if data[1:] == current_key().key_id:
        return "current"
    return "old" if any(k.key_id == data[1:] for k in old_keys()) else "unknown"


def seal_bytes(data: bytes, *, purpose: str, aad: str) -> bytes:
    """A file's bytes (an upload waiting for its job), sealed like a column value."""
    key = current_key()
    nonce = os.urandom(NONCE_BYTES)
    return FORMAT_VERSION + key.key_id + nonce + key.aead(purpose).encrypt(nonce, data, aad.encode())


def open_bytes(blob: bytes, *, purpose: str, aad: str) -> bytes:
    for key, body in _candidates(blob):
        try:
            return key.aead(purpose).decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], aad.encode())
        except InvalidTag:
            continue
    raise DecryptionError("the file does not decrypt with the configured keys")


# --- identity numbers -----------------------------------------------------------------------------------

ID_NUMBER = "id_number"


def lookup_hash(number: IdNumber) -> str:
    """The keyed hash stored in ``id_number_hash`` (current key); equal numbers, equal hashes."""
    return keyed_hash(number.value, purpose=ID_NUMBER)


def lookup_hashes(number: IdNumber) -> list[str]:
    """The number's hash under every configured key, current first: what to search for during a rotation."""
    return [keyed_hash(number.value, purpose=ID_NUMBER, key=key) for key in key_ring()]


def encrypt(number: IdNumber, *, lookup: str) -> bytes:
    return seal_text(number.value, purpose=ID_NUMBER, aad=lookup)


def decrypt(blob: bytes | memoryview, *, lookup: str) -> IdNumber:
    return IdNumber(open_text(blob, purpose=ID_NUMBER, aad=lookup))


def seal(number: IdNumber) -> tuple[str, bytes]:
    """``(hash, ciphertext)`` for a new or re-written row."""
    lookup = lookup_hash(number)
    return lookup, encrypt(number, lookup=lookup)


# --- what a rotation rewrites ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EncryptedColumn:
    """A column encrypted with these keys, and its lookup hash column if it has one.

    The hash is the associated data of the ciphertext and is taken over the stored clear value, so a
    rotation can recompute both from what it decrypts. A column added later (a phone number …) is
    listed in ``ENCRYPTED_COLUMNS`` and rotates with the rest.
    """

    model: str  # app_label.ModelName
    encrypted: str
    hashed: str
    purpose: str

    def reseal(self, blob: bytes | memoryview, lookup: str) -> tuple[str, bytes] | None:
        """``(new hash, new ciphertext)`` under the current key, or None when the row already is."""
        if under_current_key(blob):
            return None
        value = open_text(blob, purpose=self.purpose, aad=lookup)
        new_lookup = keyed_hash(value, purpose=self.purpose)
        return new_lookup, seal_text(value, purpose=self.purpose, aad=new_lookup)


ENCRYPTED_COLUMNS: list[EncryptedColumn] = [
    EncryptedColumn("residents.Person", "id_number_encrypted", "id_number_hash", ID_NUMBER),
]
