"""Feedback contacts encrypted at rest (``crypto.FEEDBACK_CONTACT``): the clear ``contact`` column goes.

Reversible: forwards, each row with a contact gets a random ``contact_row`` and its contact sealed against
it; backwards, the contact is opened into the restored clear column (both need ``FUWU_PII_KEY``, and any old
key still sealing a row in ``FUWU_PII_OLD_KEYS``). A contact is sealed as it was written: contacts stored
before phones and e-mail addresses were checked are kept, not re-parsed. A batch at a time, so the comments
are never all in memory.
"""

import secrets

from django.db import migrations, models

BATCH = 1_000


def encrypt_contacts(apps, schema_editor):  # type: ignore[no-untyped-def]
    from fuwu.residents import crypto

    ClauseFeedback = apps.get_model("evaluation", "ClauseFeedback")
    rows = ClauseFeedback.objects.exclude(contact="").order_by("pk")
    last = 0
    while batch := list(rows.filter(pk__gt=last).values_list("pk", "contact")[:BATCH]):
        for pk, contact in batch:
            binding = secrets.token_hex(16)
            ClauseFeedback.objects.filter(pk=pk).update(
                contact_row=binding,
                contact_encrypted=crypto.seal_text(crypto.FEEDBACK_CONTACT, contact.strip(), row=binding),
                contact="",
            )
        last = batch[-1][0]


def decrypt_contacts(apps, schema_editor):  # type: ignore[no-untyped-def]
    from fuwu.residents import crypto

    ClauseFeedback = apps.get_model("evaluation", "ClauseFeedback")
    rows = ClauseFeedback.objects.filter(contact_encrypted__isnull=False).order_by("pk")
    last = 0
    while batch := list(rows.filter(pk__gt=last).values_list("pk", "contact_encrypted", "contact_row")[:BATCH]):
        for pk, blob, binding in batch:
            ClauseFeedback.objects.filter(pk=pk).update(
                contact=crypto.open_text(crypto.FEEDBACK_CONTACT, blob, row=binding),
                contact_encrypted=None,
                contact_row="",
            )
        last = batch[-1][0]


class Migration(migrations.Migration):
    dependencies = [
        ("evaluation", "0004_publicity"),
    ]

    operations = [
        migrations.AddField(
            model_name="clausefeedback",
            name="contact_encrypted",
            field=models.BinaryField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="clausefeedback",
            name="contact_row",
            field=models.CharField(blank=True, editable=False, max_length=32),
        ),
        migrations.RunPython(encrypt_contacts, decrypt_contacts, elidable=False),
        migrations.RemoveField(
            model_name="clausefeedback",
            name="contact",
        ),
    ]
