"""``manage.py orders_reconcile``: stock, payments and order history that do not add up
(RELIABILITY N1, N2, N3, N4; the checks are described in orders/reconcile.py).

Prints one line per problem and a count per check; exits 1 when anything is off, so a cron
job or CI step fails loudly. ``--only stock,points,payments,audit`` runs some of the checks.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from orders.reconcile import CHECKS, reconcile

TITLES = {
    "stock": "N1 stock",
    "points": "N2 points",
    "payments": "N3 orders ↔ payments",
    "audit": "N4 audit",
}


class Command(BaseCommand):
    help = "Reconcile stock, orders and payments, and the order history; exit 1 if any is off."

    def add_arguments(self, parser):
        parser.add_argument(
            "--only",
            default="",
            help=f"Comma-separated checks to run, among: {', '.join(CHECKS)} (default: all).",
        )

    def handle(self, *args, only: str, **options):
        names = [name.strip() for name in only.split(",") if name.strip()]
        unknown = sorted(set(names) - CHECKS.keys())
        if unknown:
            raise CommandError(f"Unknown check(s): {', '.join(unknown)}.")
        results = reconcile(only=names or None)
        total = 0
        for name, problems in results.items():
            total += len(problems)
            for problem in problems:
                self.stdout.write(str(problem))
            style = self.style.ERROR if problems else self.style.SUCCESS
            self.stdout.write(style(f"{TITLES[name]}: {len(problems)} problem(s)"))
        if total:
            raise CommandError(f"{total} reconciliation problem(s) found.", returncode=1)
