"""Trace a leaked table to the contract whose fingerprinted copy it came from."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from exchange.actor import Actor
from exchange.errors import DomainError
from exchange.services.fingerprint_trace import fingerprint_trace


def _p(x: float) -> str:
    return "< 1e-300" if x == 0 else f"{x:.3g}"


class Command(BaseCommand):
    help = ("Score every fingerprinted contract (of --listing, or of every listing) against a leaked CSV, TSV, "
            "JSON Lines or Parquet file; print the best match, the probability that an innocent buyer scores as "
            "high, and the runner-up. Audited.")

    def add_arguments(self, parser):
        parser.add_argument("leaked_file")
        parser.add_argument("--listing", help="the listing id the leak is a copy of")
        parser.add_argument("--staff", default="", help="username of the staff member running the trace (audit)")

    def handle(self, *args, **options):
        from django.contrib.auth import get_user_model

        path = Path(options["leaked_file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        user = None
        if options["staff"]:
            user = get_user_model().objects.filter(username=options["staff"], is_staff=True).first()
            if user is None:
                raise CommandError(f"no staff user {options['staff']!r}")
        actor = Actor(type="staff", user=user, origin_ip="") if user else Actor.system("manage.py trace")
        try:
            with path.open("rb") as f:
                reports = fingerprint_trace(actor=actor, upload=f, filename=path.name, listing_id=options["listing"])
        except DomainError as exc:
            raise CommandError(exc.message) from None
        if not reports:
            raise CommandError("No fingerprinted delivery matches this file's columns: nothing to trace against.")
        for r in reports:
            self.stdout.write(f"Listing {r.listing_id} ({r.listing_title}), version {r.version}: {r.fmt}, "
                              f"{r.rows_read} rows read, {r.rows_scored} marked rows scored, "
                              f"{len(r.scores)} fingerprinted contract(s)")
            if r.problem:
                self.stdout.write(f"  {r.problem}")
            for label, s in (("best match", r.best), ("runner-up", r.runner_up)):
                if s is None:
                    continue
                self.stdout.write(f"  {label}: contract {s.contract_id} ({s.buyer}): {s.agree}/{s.cells} marks agree; "
                                  f"P(an innocent buyer scores as high) = {_p(s.p_innocent)}, "
                                  f"among all {len(r.scores)} = {_p(s.p_any_innocent)}")
            if r.named:
                self.stdout.write(self.style.SUCCESS("  NAMED: " + ", ".join(
                    f"contract {s.contract_id} ({s.buyer})" for s in r.named)
                    + f" (each below {r.alpha:g} for every innocent candidate together)"))
            else:
                self.stdout.write(f"  No contract named (threshold {r.alpha:g}; an unaltered copy needs about "
                                  f"{r.min_rows} rows)")

