"""Analytics: who may read which reports (permissions granted to the staff roles in
staff/roles.py) and the daily rollup tables the heavy reports read (analytics.rollups)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportAccess(models.Model):
    """No table: the holder of the report permissions.

    - view_all_reports: every report, every salesperson's figures (the manager);
    - view_sales_reports: the sales and payment reports, shop-wide (finance);
    - view_own_performance: the salesperson's reports, their own customers only (sales);
    - view_own_service: the customer service report, their own work only.
    """

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_all_reports", _("Can read every report")),
            ("view_sales_reports", _("Can read the sales and payment reports")),
            ("view_own_performance", _("Can read their own sales performance")),
            ("view_own_service", _("Can read their own customer service figures")),
        ]
        verbose_name = _("report access")

    def __str__(self):
        return str(self._meta.verbose_name)
