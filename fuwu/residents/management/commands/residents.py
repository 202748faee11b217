"""``fuwu residents import|load-parquet|rotate-key|indexes``: the resident registry from the command line."""

from __future__ import annotations

from argparse import ArgumentParser, BooleanOptionalAction
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from fuwu.residents.sources import documented_headers


class Command(BaseCommand):
    verbosity = 1
    help = (
        "Import a resident list (.xlsx or .csv), load a synthetic population (Parquet), or re-encrypt the "
        "personal numbers under a new FUWU_PII_KEY."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser(
            "import",
            help="Import a resident list. Without --valid-only, any problem means nothing is imported.",
            description=f"Columns (English or Chinese headers): {documented_headers()}",
        )
        load.add_argument("path", type=Path)
        load.add_argument(
            "--valid-only", action="store_true", help="Import the rows without problems; report the rest."
        )
        bulk = sub.add_parser(
            "load",
            aliases=["load-parquet"],
            help="Load or update the registry in bulk from Parquet, CSV or .xlsx, a batch per transaction.",
            description=(
                "Resumable: run it again on the same file after it was stopped and it carries on after the last "
                "committed batch. Without --valid-only the first problem stops the writing (the batches before it "
                "stay) and the rest is still checked. See docs/population.md."
            ),
        )
        bulk.add_argument("path", type=Path)
        bulk.add_argument("--limit", type=int, help="Load only the first N rows.")
        bulk.add_argument("--valid-only", action="store_true", help="Write the rows without problems; report the rest.")
        bulk.add_argument("--batch-size", type=int, default=None, help="Rows per transaction (default 20000).")
        bulk.add_argument(
            "--workers",
            type=int,
            default=None,
            help="Processes that check and encrypt batches ahead of the writing (default: CPUs - 2; 1: none).",
        )
        bulk.add_argument(
            "--pipeline",
            action=BooleanOptionalAction,
            default=None,
            help="With one worker: check the next batch while this one is written (default: on PostgreSQL).",
        )
        bulk.add_argument(
            "--queue", action="store_true", help="Put the load on the background queue (`fuwu worker` runs it)."
        )
        bulk.add_argument(
            "--restart", action="store_true", help="Start over, even if an earlier load of this file was stopped."
        )
        rotate = sub.add_parser(
            "rotate-key",
            help="Re-encrypt and re-hash every encrypted column under FUWU_PII_KEY (old keys in FUWU_PII_OLD_KEYS).",
            description="Resumable: rows already under the current key are skipped. See docs/deploy.md.",
        )
        rotate.add_argument("--batch-size", type=int, default=2_000, help="Rows per transaction (default 2000).")
        rotate.add_argument(
            "--check", action="store_true", help="Only count the rows still under an old key; exit 1 if any."
        )

        sub.add_parser(
            "indexes",
            help="Build the registry's indexes a first load put aside, if it was stopped and not run again.",
            description="A first load into an empty registry builds them itself when it ends; see ADR 0026.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbosity = options["verbosity"]
        if options["action"] == "rotate-key":
            self._rotate(batch_size=options["batch_size"], check=options["check"])
            return
        if options["action"] == "indexes":
            self._indexes()
            return
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        if options["action"] == "import":
            self._import(path, valid_only=options["valid_only"])
        else:
            self._load(
                path.resolve(),
                limit=options["limit"],
                valid_only=options["valid_only"],
                batch_size=options["batch_size"],
                workers=options["workers"],
                pipeline=options["pipeline"],
                queue=options["queue"],
                restart=options["restart"],
            )

    def _indexes(self) -> None:
        from fuwu.residents import indexes

        built = indexes.restore(lambda name: self.stdout.write(f"building {name}") if self.verbosity else None)
        self.stdout.write(f"{len(built)} index(es) built" if built else "every index of the registry is there")

    def _import(self, path: Path, *, valid_only: bool) -> None:
        from fuwu.residents.services import persons_import

        report = persons_import(path=path, actor=None, valid_only=valid_only)
        for error in report.errors:
            self.stderr.write(str(error))
        self.stdout.write(f"{path}: {report.summary()}")
        if report.errors:
            # Non-zero whenever a row was not imported, so scripts notice even a partial import.
            raise CommandError(
                f"{len(report.errors)} problem(s) in {report.record.rejected or 'the file as a whole'} row(s)"
            )

    def _load(
        self,
        path: Path,
        *,
        limit: int | None,
        valid_only: bool,
        batch_size: int | None,
        workers: int | None,
        pipeline: bool | None,
        queue: bool,
        restart: bool,
    ) -> None:
        from fuwu.residents.loading import BATCH_SIZE, LoadBusy, LoadError, persons_load, persons_load_queue

        if batch_size is not None and batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        if workers is not None and workers < 1:
            raise CommandError("--workers must be at least 1")
        if queue:
            job = persons_load_queue(
                path=path,
                actor=None,
                valid_only=valid_only,
                limit=limit,
                batch_size=batch_size,
                resume=not restart,
                workers=workers,
                pipeline=pipeline,
            )
            self.stdout.write(f"{path}: queued as job {job.pk}; `fuwu worker` runs it (progress at /jobs/{job.pk}/)")
            return

        def progress(done: int, total: int | None, message: str = "") -> None:
            if self.verbosity > 1:
                line = f"  {done:,} of {total:,} rows" if total else f"  {done:,} rows"
                self.stdout.write(f"{line} {_(message)}" if message else line)

        try:
            report = persons_load(
                path=path,
                actor=None,
                limit=limit,
                valid_only=valid_only,
                batch_size=batch_size or BATCH_SIZE,
                progress=progress,
                resume=not restart,
                workers=workers,
                pipeline=pipeline,
            )
        except LoadBusy as exc:
            raise CommandError(f"{exc}; let it finish, or stop it first") from exc
        except LoadError as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(str(exc).split(". First:")[0]) from exc
        r = report.record
        resumed = f" (carried on after row {report.resumed_from})" if report.resumed_from else ""
        self.stdout.write(
            f"{path}: {r.rows} persons: {r.created} created, {r.updated} updated, {r.unchanged} unchanged{resumed}"
        )
        if report.ignored_columns:
            self.stdout.write(f"ignored columns not in the contract: {', '.join(report.ignored_columns)}")

    def _rotate(self, *, batch_size: int, check: bool) -> None:
        from fuwu.residents.crypto import DecryptionError
        from fuwu.residents.rotation import (
            RotationReport,
            pii_key_check,
            pii_key_rotate,
            queued_files_under_old_keys,
        )

        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        if not check:

            def progress(report: RotationReport) -> None:
                self.stdout.write(f"  {report.model}: {report.rows} read, {report.rotated} re-encrypted")

            try:
                reports = pii_key_rotate(batch_size=batch_size, progress=progress if self.verbosity > 1 else None)
            except DecryptionError as exc:
                raise CommandError(f"{exc}; nothing after the last batch reported was changed") from exc
            for r in reports:
                busy = f", {r.busy} changed by someone else meanwhile" if r.busy else ""
                self.stdout.write(
                    f"{r.model}: {r.rotated} row(s) re-encrypted, {r.already} already under the current key{busy}"
                )
        left = unreadable = 0
        for c in pii_key_check():
            for name, states in c.columns.items():
                self.stdout.write(
                    f"{c.model}.{name}: {states['current']} under the current key, "
                    f"{states['old']} under an old key, {states['legacy']} in the version-1 format, "
                    f"{states['unknown']} under a key that is not configured"
                )
            self.stdout.write(
                f"{c.model}: {c.current} row(s) done, {c.left} row(s) still to re-encrypt, "
                f"{c.unreadable} row(s) that open with no configured key"
            )
            left += c.left
            if c.unreadable:
                unreadable += c.unreadable
                self.stdout.write(f"  the first that does not open: {c.model} {c.first_unreadable}")
        files = queued_files_under_old_keys()
        if files:
            self.stdout.write(f"{files} uploaded list(s) wait for their import job under an old key")
        if unreadable:
            raise CommandError(
                f"{unreadable} row(s) open with neither FUWU_PII_KEY nor a key in FUWU_PII_OLD_KEYS: the key they "
                "were encrypted with is missing (a wrong FUWU_PII_KEY?); add it to FUWU_PII_OLD_KEYS"
            )
        if left:
            raise CommandError("rows remain under an old key: run `fuwu residents rotate-key` again")
        if files:
            raise CommandError("let the queued imports finish (`fuwu worker`) before removing FUWU_PII_OLD_KEYS")
        self.stdout.write("every encrypted column is under the current key; FUWU_PII_OLD_KEYS can be removed")
