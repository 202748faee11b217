"""A resident's contact details: the encrypted column that holds each, and reading or sealing them together."""

from __future__ import annotations

from collections.abc import Mapping

from fuwu.residents import crypto
from fuwu.residents.models import Person

# Import column name (``columns.CONTACT_NAMES``) → where it is stored.
ENCRYPTED: dict[str, crypto.EncryptedColumn] = {
    "contact_phone": crypto.CONTACT_PHONE,
    "emergency_contact_name": crypto.EMERGENCY_NAME,
    "emergency_contact_relation": crypto.EMERGENCY_RELATION,
    "emergency_contact_phone": crypto.EMERGENCY_PHONE,
}


def stored(person: Person) -> dict[str, str | None]:
    """The person's contact details in clear (None where nothing is recorded). Callers decide what to show."""
    return {
        name: crypto.open_optional(column, getattr(person, column.field), row=person.id_number_hash)
        for name, column in ENCRYPTED.items()
    }


def sealed(values: Mapping[str, str | None], *, row: str) -> dict[str, bytes | None]:
    """``values`` (some of the contact columns) as ``{model field: ciphertext}`` for the row ``row``."""
    return {
        ENCRYPTED[name].field: crypto.seal_optional(ENCRYPTED[name], value, row=row) for name, value in values.items()
    }


def changed(person: Person, values: Mapping[str, str | None]) -> dict[str, bytes | None]:
    """The columns ``values`` would change, sealed; compared in clear, as every encryption differs (fresh nonce)."""
    row = person.id_number_hash
    differ = {
        name: value
        for name, value in values.items()
        if crypto.open_optional(ENCRYPTED[name], getattr(person, ENCRYPTED[name].field), row=row) != value
    }
    return sealed(differ, row=row)
