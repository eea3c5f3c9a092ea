"""``manage.py stock_reconcile``: every variant's stock against the sum of its movements."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext, gettext_lazy, ngettext

from catalog.models import Variant
from catalog.selectors import stock_mismatches


class Command(BaseCommand):
    help = gettext_lazy(
        "List variants whose stock differs from the sum of their stock movements; "
        "exits with status 1 when there are any."
    )

    def handle(self, *args, **options):
        mismatches = 0
        for variant in stock_mismatches().iterator(chunk_size=500):
            mismatches += 1
            self.stdout.write(
                gettext(
                    "%(sku)s (variant %(id)d): stock %(stock)d, movements add up to "
                    "%(ledger)d, off by %(difference)+d"
                )
                % {
                    "sku": variant.sku,
                    "id": variant.pk,
                    "stock": variant.stock,
                    "ledger": variant.ledger_stock,
                    "difference": variant.stock - variant.ledger_stock,
                }
            )
        if mismatches:
            raise CommandError(
                ngettext(
                    "%(count)d variant's stock does not match its movements.",
                    "%(count)d variants' stock does not match their movements.",
                    mismatches,
                )
                % {"count": mismatches},
                returncode=1,
            )
        checked = Variant.objects.count()
        self.stdout.write(
            self.style.SUCCESS(
                ngettext(
                    "Stock matches the movements for the %(count)d variant.",
                    "Stock matches the movements for all %(count)d variants.",
                    checked,
                )
                % {"count": checked}
            )
        )
