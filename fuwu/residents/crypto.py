"""Personal data at rest: one small API for every encrypted column, the keyed hash that finds a resident,
and the key ring that lets ``FUWU_PII_KEY`` be rotated with the site running.

**Columns.** An ``EncryptedColumn`` names a model's field, its *purpose* and the field that binds it to
its row. ``seal_text``/``open_text`` (and ``seal_optional``/``open_optional`` for nullable columns) are the
only functions that write or read one, and ``ENCRYPTED_COLUMNS`` lists every one of them, identity number
and contact details alike. A stored value is AES-256-GCM with a fresh 96-bit nonce, laid out as
``version 2 (1 byte) | key id (4) | nonce (12) | ciphertext + tag``; version 1 (``version | nonce |
ciphertext + tag``, no key id), written before rotation existed, still opens: every configured key is tried.

**Keys.** Everything is derived from one secret, ``settings.FUWU_PII_KEY`` (base64 of 32 random bytes),
with HKDF and a label per purpose: ``fuwu residents <purpose> aes-256-gcm v1`` for a column's (or a
file's) cipher, ``fuwu residents <purpose> hmac v1`` for a keyed hash. So each column has a key of its
own, and a ciphertext copied into another column does not open. The key id is derived too and says
nothing about the key.

**Rows.** The value of the column's ``row_field`` is the associated data, so a ciphertext copied onto
another row does not open either. For a resident that is ``id_number_hash``, the HMAC-SHA256 of the
normalised identity number: equal numbers have equal hashes, so lookups and the uniqueness constraint
work without decrypting, and without the key the hash cannot be brute-forced over the small space of
valid numbers, as a plain SHA-256 could. It is known before a row is inserted. Because that binding is
itself keyed (``EncryptedColumn.hashed``), re-keying the identity number changes it, and with it the
associated data of every other column of the row: ``reseal_row`` re-seals a row as a whole.

**Rotation.** Set the new secret as ``FUWU_PII_KEY`` and the old one in ``FUWU_PII_OLD_KEYS``; restart.
Everything new is written under the new key; old rows still decrypt (the key id picks the key) and are
still found (``lookup_hashes`` gives the hash under every configured key). Then
``fuwu residents rotate-key`` (``rotation.py``) re-seals every row that has a column in
``ENCRYPTED_COLUMNS`` under an old key or an old hash, a batch per transaction, so it can be stopped and
run again. When it reports nothing left, remove ``FUWU_PII_OLD_KEYS``. ``docs/deploy.md`` has the drill.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from fuwu.residents.idnumber import IdNumber

LEGACY_VERSION = b"\x01"  # version | nonce | ciphertext; the key is whichever configured one opens it
FORMAT_VERSION = b"\x02"  # version | key id | nonce | ciphertext
KEY_ID_BYTES = 4
NONCE_BYTES = 12
# The key settings.py falls back to outside production. It is public (it is in the
# source), so anything encrypted with it is as good as clear text; check --deploy warns.
DEVELOPMENT_KEY = "ZnV3dS1kZXZlbG9wbWVudC1waWkta2V5LTMyYnl0ZXM="


class DecryptionError(Exception):
    """The stored ciphertext does not open with the configured keys and this row's binding."""


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


# --- The key ring -----------------------------------------------------------------------------------------------


def _derive(master: bytes, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(master)


@cache
def _aead(master: bytes, purpose: str) -> AESGCM:
    return AESGCM(_derive(master, f"fuwu residents {purpose} aes-256-gcm v1".encode()))


@cache
def _hmac_key(master: bytes, purpose: str) -> bytes:
    return _derive(master, f"fuwu residents {purpose} hmac v1".encode())


@dataclass(frozen=True)
class Key:
    """One master key of the ring and its id; the keys it is used with are derived per purpose."""

    key_id: bytes
    master: bytes

    def aead(self, purpose: str) -> AESGCM:
        return _aead(self.master, purpose)

    def hmac_key(self, purpose: str) -> bytes:
        return _hmac_key(self.master, purpose)


@cache
def _key(encoded: str, setting: str) -> Key:
    # Cached per setting value, so tests that override the setting get their own keys.
    master = decode_key(encoded, setting=setting)
    # The id names the key without revealing it: derived, truncated, stored beside each ciphertext.
    return Key(_derive(master, b"fuwu pii key id v1")[:KEY_ID_BYTES], master)


def current_key() -> Key:
    return _key(str(settings.FUWU_PII_KEY), "FUWU_PII_KEY")


def old_keys() -> list[Key]:
    return [_key(str(k), "FUWU_PII_OLD_KEYS") for k in getattr(settings, "FUWU_PII_OLD_KEYS", []) if k]


def key_ring() -> list[Key]:
    """The current key first, then the old ones still configured for a rotation."""
    ring = [current_key()]
    ring.extend(k for k in old_keys() if k.key_id != ring[0].key_id)
    return ring


def keyed_hash(value: str, *, purpose: str, key: Key | None = None) -> str:
    """HMAC-SHA256 of ``value`` (hex) under ``purpose``'s hash key of ``key`` (the current one by default)."""
    return hmac.new((key or current_key()).hmac_key(purpose), value.encode("utf-8"), hashlib.sha256).hexdigest()


def _seal(data: bytes, *, purpose: str, aad: bytes) -> bytes:
    key = current_key()
    nonce = os.urandom(NONCE_BYTES)
    return FORMAT_VERSION + key.key_id + nonce + key.aead(purpose).encrypt(nonce, data, aad)


def _candidates(data: bytes) -> Iterator[tuple[Key, bytes]]:
    """(key, nonce + ciphertext) to try for a stored value: the named key, or every key for version 1."""
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


def _open(blob: bytes | memoryview, *, purpose: str, aad: bytes, what: str) -> bytes:
    data = bytes(blob)  # PostgreSQL hands back a memoryview
    for key, body in _candidates(data):
        try:
            return key.aead(purpose).decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], aad)
        except InvalidTag:
            continue
    raise DecryptionError(f"{what} does not decrypt with the configured keys and this row")


def key_state(blob: bytes | memoryview) -> str:
    """``current``, ``old`` (in FUWU_PII_OLD_KEYS), ``unknown`` (a key not configured) or ``legacy`` (version 1)."""
    data = bytes(blob[: 1 + KEY_ID_BYTES])
    if data[:1] != FORMAT_VERSION:
        return "legacy"
    if data[1:] == current_key().key_id:
        return "current"
    return "old" if any(k.key_id == data[1:] for k in old_keys()) else "unknown"


def under_current_key(blob: bytes | memoryview) -> bool:
    return key_state(blob) == "current"


# --- Encrypted columns: one small API, one list ----------------------------------------------------------------


@dataclass(frozen=True)
class EncryptedColumn:
    """A column stored in the format above, under its own key (``purpose``), bound to its row.

    ``row_field``'s value in the same row is the associated data. ``hashed`` marks the column whose keyed
    hash *is* that value (the identity number and ``id_number_hash``): re-keying it re-binds the whole row.
    """

    model: str  # app_label.ModelName
    field: str  # the BinaryField holding the ciphertext
    purpose: str  # names the column's keys: "fuwu residents <purpose> aes-256-gcm v1" / "... hmac v1"
    row_field: str  # the field whose value binds a ciphertext to its row
    hashed: bool = False  # row_field holds keyed_hash(value, purpose=purpose)


def seal_text(column: EncryptedColumn, plain: str, *, row: str) -> bytes:
    """``plain`` encrypted under the current key for ``column`` of the row whose ``row_field`` is ``row``."""
    return _seal(plain.encode("utf-8"), purpose=column.purpose, aad=row.encode("utf-8"))


def open_text(column: EncryptedColumn, blob: bytes | memoryview, *, row: str) -> str:
    """The clear value, under whichever configured key sealed it (``DecryptionError`` if none, or another row)."""
    return _open(blob, purpose=column.purpose, aad=row.encode("utf-8"), what=column.field).decode("utf-8")


def seal_optional(column: EncryptedColumn, plain: str | None, *, row: str) -> bytes | None:
    """As ``seal_text``; ``None`` (unknown, nothing stored) stays ``None``."""
    return None if plain is None else seal_text(column, plain, row=row)


def open_optional(column: EncryptedColumn, blob: bytes | memoryview | None, *, row: str) -> str | None:
    return None if blob is None else open_text(column, blob, row=row)


ID_NUMBER = EncryptedColumn("residents.Person", "id_number_encrypted", "id_number", "id_number_hash", hashed=True)
CONTACT_PHONE = EncryptedColumn("residents.Person", "contact_phone_encrypted", "contact_phone", "id_number_hash")
EMERGENCY_NAME = EncryptedColumn(
    "residents.Person", "emergency_contact_name_encrypted", "emergency_contact_name", "id_number_hash"
)
EMERGENCY_RELATION = EncryptedColumn(
    "residents.Person", "emergency_contact_relation_encrypted", "emergency_contact_relation", "id_number_hash"
)
EMERGENCY_PHONE = EncryptedColumn(
    "residents.Person", "emergency_contact_phone_encrypted", "emergency_contact_phone", "id_number_hash"
)
# Public feedback on a standard's clause (``fuwu.evaluation.feedback``): the optional phone or e-mail address,
# bound to a random token of its row (nothing of the row is known before it is written, and the row is no person).
FEEDBACK_CONTACT = EncryptedColumn("evaluation.ClauseFeedback", "contact_encrypted", "feedback_contact", "contact_row")

# Every encrypted column in fuwu; `fuwu residents rotate-key` walks this list. A new encrypted column is a
# field, a line here and nothing else: `tests/residents/test_contact.py` checks each is a real field of its
# model, opens only in its own column and row, and `tests/residents/test_rotation.py` that it rotates.
ENCRYPTED_COLUMNS: tuple[EncryptedColumn, ...] = (
    ID_NUMBER,
    CONTACT_PHONE,
    EMERGENCY_NAME,
    EMERGENCY_RELATION,
    EMERGENCY_PHONE,
    FEEDBACK_CONTACT,
)


def columns_by_model() -> dict[str, tuple[EncryptedColumn, ...]]:
    """``ENCRYPTED_COLUMNS`` grouped by model, in list order: what a rotation rewrites row by row."""
    grouped: dict[str, list[EncryptedColumn]] = {}
    for column in ENCRYPTED_COLUMNS:
        grouped.setdefault(column.model, []).append(column)
    return {model: tuple(columns) for model, columns in grouped.items()}


def reseal_row(
    columns: Sequence[EncryptedColumn], stored: Mapping[str, bytes | memoryview | None], *, row: str
) -> dict[str, str | bytes | None] | None:
    """A row's encrypted columns, and its binding, under the current key; None when it already is.

    ``columns`` are one model's (``columns_by_model``), sharing one ``row_field`` whose value is ``row``;
    ``stored`` maps each field to its ciphertext. Every column is opened (a value that does not open is a
    ``DecryptionError``, never a silent skip). If one column is ``hashed``, the binding becomes its hash under
    the current key, and every column is sealed again against it, whatever key it was under: a contact
    phone under the new key but bound to the old hash would otherwise stop opening.
    """
    (row_field,) = {c.row_field for c in columns}
    clear = {c.field: open_optional(c, stored[c.field], row=row) for c in columns}
    new_row = row
    for c in columns:
        value = clear[c.field]
        if c.hashed and value is not None:
            new_row = keyed_hash(value, purpose=c.purpose)
    blobs = [stored[c.field] for c in columns]
    if new_row == row and all(blob is None or under_current_key(blob) for blob in blobs):
        return None
    return {row_field: new_row, **{c.field: seal_optional(c, clear[c.field], row=new_row) for c in columns}}


# --- Identity numbers ------------------------------------------------------------------------------------------


def lookup_hash(number: IdNumber) -> str:
    """The keyed hash stored in ``id_number_hash`` (current key); equal numbers, equal hashes."""
    return keyed_hash(number.value, purpose=ID_NUMBER.purpose)


def lookup_hashes(number: IdNumber) -> list[str]:
    """The number's hash under every configured key, current first: what to search for during a rotation."""
    return [keyed_hash(number.value, purpose=ID_NUMBER.purpose, key=key) for key in key_ring()]


def encrypt(number: IdNumber, *, lookup: str) -> bytes:
    return seal_text(ID_NUMBER, number.value, row=lookup)


def decrypt(blob: bytes | memoryview, *, lookup: str) -> IdNumber:
    return IdNumber(open_text(ID_NUMBER, blob, row=lookup))


def seal(number: IdNumber) -> tuple[str, bytes]:
    """``(hash, ciphertext)`` for a new or re-written row."""
    lookup = lookup_hash(number)
    return lookup, encrypt(number, lookup=lookup)


# --- Files that are not columns --------------------------------------------------------------------------------


def seal_bytes(data: bytes, *, purpose: str, aad: str) -> bytes:
    """A file's bytes (an upload waiting for its job), sealed like a column value under a purpose of its own."""
    if purpose in {c.purpose for c in ENCRYPTED_COLUMNS}:
        raise ValueError(f"{purpose!r} is a column's purpose; a file needs a key of its own")
    return _seal(data, purpose=purpose, aad=aad.encode("utf-8"))


def open_bytes(blob: bytes | memoryview, *, purpose: str, aad: str) -> bytes:
    return _open(blob, purpose=purpose, aad=aad.encode("utf-8"), what="the file")
