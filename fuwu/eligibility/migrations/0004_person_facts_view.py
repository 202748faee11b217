"""The registry's facts as the rules read them, for screening in place on PostgreSQL (ADR 18).

``eligibility_person_facts`` is a view over ``residents_person``: ``person_id`` (the Person's primary key),
``household_id`` and every other base fact of ``fuwu.eligibility.facts.BASE_FACTS`` as it stood when this
migration was written, in that order. No name, no identity number, no contact detail (encrypted or not),
no import bookkeeping: nothing a rule does not read. Derived facts (age on the screening day, household
aggregates) are not in it: the engine computes them from their one definition at screening time.

A later change to the facts vocabulary needs a migration that replaces this view; ``fuwu.eligibility.inplace``
refuses to screen while the view's columns and the vocabulary differ, and a test holds them equal.

SQLite has no in-place screening (it screens through the Parquet export), so there this does nothing.
"""

from django.db import migrations

VIEW = "eligibility_person_facts"
COLUMNS = (
    "birth_date",
    "sex",
    "hukou_area",
    "hukou_type",
    "residence_area",
    "lives_in_village",
    "relation",
    "lives_alone",
    "disability_kind",
    "disability_grade",
    "care_need",
    "low_income_status",
    "veteran_category",
    "school_stage",
    "boarding",
    "fd_hypertension",
    "fd_diabetes",
    "fd_pregnant",
    "fd_severe_mental",
    "house_grade",
    "income",
    "employment_status",
    "pension_insurance",
    "medical_insurance",
    "orphan_status",
)


def create_view(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    columns = ", ".join(COLUMNS)
    schema_editor.execute(
        f"CREATE OR REPLACE VIEW {VIEW} AS SELECT id AS person_id, household_id, {columns} FROM residents_person"
    )
    schema_editor.execute(
        f"COMMENT ON VIEW {VIEW} IS 'Base facts of every registered person for screening in place (ADR 18); "
        "no names, identity numbers or contact details.'"
    )


def drop_view(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP VIEW IF EXISTS {VIEW}")


class Migration(migrations.Migration):

    dependencies = [
        ("eligibility", "0003_run_store_candidates_changes_counts"),
        ("residents", "0003_person_employment_insurance_orphan_village_facts"),
    ]

    operations = [
        migrations.RunPython(create_view, drop_view, elidable=False),
    ]
