"""Encrypting identity numbers at rest, and the keyed hash used to find them.

The number is stored twice, neither time in clear:

* ``id_number_encrypted``: AES-256-GCM, a fresh 96-bit nonce per encryption,
  laid out as ``version (1 byte) | nonce (12) | ciphertext + tag``. The row's
  lookup hash is the associated data, so a ciphertext copied onto another
  person's row fails to decrypt instead of showing the wrong number.
* ``id_number_hash``: HMAC-SHA256 of the normalised 18-character number,
  hex. Equal numbers have equal hashes, so lookups and the uniqueness
  constraint work without decrypting; without the key the hash cannot be
  brute-forced over the small space of valid numbers, as a plain SHA-256 could.

Both keys are derived from the one secret ``settings.FUWU_PII_KEY`` (base64
of 32 random bytes) with HKDF and distinct labels, so neither key is ever used
for two purposes. Rotating the secret means re-encrypting and re-hashing every
row; the version byte leaves room for that, it is not implemented yet.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from fuwu.residents.idnumber import IdNumber

FORMAT_VERSION = b"\x01"
NONCE_BYTES = 12
# The key settings.py falls back to outside production. It is public (it is in the
# source), so anything encrypted with it is as good as clear text; check --deploy warns.
DEVELOPMENT_KEY = "ZnV3dS1kZXZlbG9wbWVudC1waWkta2V5LTMyYnl0ZXM="


class DecryptionError(Exception):
    """The stored ciphertext does not open with this key and this row's hash."""


def decode_key(encoded: str) -> bytes:
    """The 32 raw bytes of a base64 key; ImproperlyConfigured with the reason otherwise."""
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImproperlyConfigured("FUWU_PII_KEY is not valid base64") from exc
    if len(key) != 32:
        raise ImproperlyConfigured(
            f"FUWU_PII_KEY decodes to {len(key)} bytes; it must be 32 (generate one with: "
            'python -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())")'
        )
    return key


@cache
def _keys(encoded: str) -> tuple[AESGCM, bytes]:
    # Cached per setting value, so tests that override the setting get their own keys.
    master = decode_key(encoded)

    def derive(label: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(master)

    return AESGCM(derive(b"fuwu residents id_number aes-256-gcm v1")), derive(b"fuwu residents id_number hmac v1")


def _current() -> tuple[AESGCM, bytes]:
    return _keys(str(settings.FUWU_PII_KEY))


def lookup_hash(number: IdNumber) -> str:
    """The keyed hash stored in ``id_number_hash``; equal numbers, equal hashes."""
    return hmac.new(_current()[1], number.value.encode("ascii"), hashlib.sha256).hexdigest()


def encrypt(number: IdNumber, *, lookup: str) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    sealed = _current()[0].encrypt(nonce, number.value.encode("ascii"), lookup.encode("ascii"))
    return FORMAT_VERSION + nonce + sealed


def decrypt(blob: bytes | memoryview, *, lookup: str) -> IdNumber:
    data = bytes(blob)  # PostgreSQL hands back a memoryview
    if data[:1] != FORMAT_VERSION:
        raise DecryptionError(f"unknown ciphertext format {data[:1]!r}")
    nonce, sealed = data[1 : 1 + NONCE_BYTES], data[1 + NONCE_BYTES :]
    try:
        plain = _current()[0].decrypt(nonce, sealed, lookup.encode("ascii"))
    except InvalidTag as exc:
        raise DecryptionError("the identity number does not decrypt with this key and row") from exc
    return IdNumber(plain.decode("ascii"))


def seal(number: IdNumber) -> tuple[str, bytes]:
    """``(hash, ciphertext)`` for a new or re-written row."""
    lookup = lookup_hash(number)
    return lookup, encrypt(number, lookup=lookup)


# --- Any encrypted column: one small API, one list of the columns -----------------------------------------------


@dataclass(frozen=True)
class EncryptedColumn:
    """A column stored as AES-256-GCM ciphertext in the layout above.

    Each column has a key of its own, derived from ``FUWU_PII_KEY`` with the
    HKDF label ``purpose``, so a ciphertext copied into another column does not
    open. The value of ``row_field`` in the same row is the associated data, so
    a ciphertext copied onto another row does not open either.
    """

    model: str  # app_label.ModelName
    field: str  # the BinaryField holding the ciphertext
    purpose: bytes  # the HKDF label of the column's key
    row_field: str  # the field whose value binds a ciphertext to its row


# The identity number's key and binding are those of ``encrypt``/``decrypt`` above (a test holds them equal).
ID_NUMBER = EncryptedColumn(
    "residents.Person", "id_number_encrypted", b"fuwu residents id_number aes-256-gcm v1", "id_number_hash"
)
CONTACT_PHONE = EncryptedColumn(
    "residents.Person", "contact_phone_encrypted", b"fuwu residents contact_phone aes-256-gcm v1", "id_number_hash"
)
EMERGENCY_NAME = EncryptedColumn(
    "residents.Person",
    "emergency_contact_name_encrypted",
    b"fuwu residents emergency_contact_name aes-256-gcm v1",
    "id_number_hash",
)
EMERGENCY_RELATION = EncryptedColumn(
    "residents.Person",
    "emergency_contact_relation_encrypted",
    b"fuwu residents emergency_contact_relation aes-256-gcm v1",
    "id_number_hash",
)
EMERGENCY_PHONE = EncryptedColumn(
    "residents.Person",
    "emergency_contact_phone_encrypted",
    b"fuwu residents emergency_contact_phone aes-256-gcm v1",
    "id_number_hash",
)

# Every encrypted column in fuwu. Re-encrypting under a new key means walking this list; a new
# encrypted column is added here, and `tests/residents/test_contact.py` checks each is a real field.
# ``id_number_hash`` is itself keyed: re-keying changes it, and with it every other column's row binding.
ENCRYPTED_COLUMNS: tuple[EncryptedColumn, ...] = (
    ID_NUMBER,
    CONTACT_PHONE,
    EMERGENCY_NAME,
    EMERGENCY_RELATION,
    EMERGENCY_PHONE,
)


@cache
def _column_cipher(encoded: str, purpose: bytes) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(decode_key(encoded))
    return AESGCM(key)


def seal_text(column: EncryptedColumn, plain: str, *, row: str) -> bytes:
    """``plain`` encrypted for ``column`` of the row whose ``row_field`` is ``row``."""
    nonce = os.urandom(NONCE_BYTES)
    cipher = _column_cipher(str(settings.FUWU_PII_KEY), column.purpose)
    return FORMAT_VERSION + nonce + cipher.encrypt(nonce, plain.encode("utf-8"), row.encode("utf-8"))


def open_text(column: EncryptedColumn, blob: bytes | memoryview, *, row: str) -> str:
    data = bytes(blob)  # PostgreSQL hands back a memoryview
    if data[:1] != FORMAT_VERSION:
        raise DecryptionError(f"unknown ciphertext format {data[:1]!r} in {column.field}")
    nonce, sealed = data[1 : 1 + NONCE_BYTES], data[1 + NONCE_BYTES :]
    cipher = _column_cipher(str(settings.FUWU_PII_KEY), column.purpose)
    try:
        return cipher.decrypt(nonce, sealed, row.encode("utf-8")).decode("utf-8")
    except InvalidTag as exc:
        raise DecryptionError(f"{column.field} does not decrypt with this key and row") from exc


def seal_optional(column: EncryptedColumn, plain: str | None, *, row: str) -> bytes | None:
    """As ``seal_text``; ``None`` (unknown, nothing stored) stays ``None``."""
    return None if plain is None else seal_text(column, plain, row=row)


def open_optional(column: EncryptedColumn, blob: bytes | memoryview | None, *, row: str) -> str | None:
    return None if blob is None else open_text(column, blob, row=row)
