"""Analytics: who may read which reports (permissions granted to the staff roles in
staff/roles.py) and the daily rollup tables the heavy reports read (analytics.rollups)."""

from django.conf import settings
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


class SalesFigures(models.Model):
    """What every sales rollup row holds: the product's category, units and revenue net of
    refunds, and the orders they came in."""

    category_id = models.IntegerField(_("category"), null=True, blank=True)
    units = models.IntegerField(_("units"), default=0)
    revenue = models.DecimalField(_("revenue"), max_digits=16, decimal_places=2, default=0)
    orders = models.IntegerField(_("orders"), default=0)

    class Meta:
        abstract = True


class BuyerGroupSales(SalesFigures):
    """A daily rollup row's group of buyers: their country, salesperson and level."""

    country = models.CharField(_("country"), max_length=2, blank=True)
    salesperson_id = models.IntegerField(_("salesperson"), null=True, blank=True)
    level_id = models.IntegerField(_("level"), null=True, blank=True)

    class Meta:
        abstract = True


class ProductSalesDay(BuyerGroupSales):
    """One product's sales on one day to one group of buyers (country, salesperson, level):
    units and revenue net of refunds, and the orders holding it. Rebuilt per day by
    analytics.rollups; the product, category and new-arrival reports read it."""

    day = models.DateField(_("day"))
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.CASCADE, related_name="+", verbose_name=_("product")
    )

    class Meta:
        verbose_name = _("product sales per day")
        verbose_name_plural = _("product sales per day")
        indexes = [
            models.Index(fields=["day", "product"]),
            models.Index(fields=["product", "day"]),
            models.Index(fields=["category_id", "day"]),
        ]

    def __str__(self):
        return f"{self.day} {self.product_id}: {self.units}"


class VariantSalesDay(BuyerGroupSales):
    """One variant's sales on one day to one group of buyers, like ProductSalesDay (a variant
    is on an order once, so `orders` is its lines). The products report's top variants."""

    day = models.DateField(_("day"))
    variant = models.ForeignKey(
        "catalog.Variant", on_delete=models.CASCADE, related_name="+", verbose_name=_("variant")
    )

    class Meta:
        verbose_name = _("variant sales per day")
        verbose_name_plural = _("variant sales per day")
        indexes = [models.Index(fields=["day", "variant"])]

    def __str__(self):
        return f"{self.day} {self.variant_id}: {self.units}"


class ProductSalesMonth(SalesFigures):
    """One product's sales in one calendar month, all buyers together: the month's
    ProductSalesDay rows summed (rebuilt with them). A year is a few thousand rows rather than
    hundreds of thousands, so a report not narrowed to some buyers reads its whole months
    here and only the days at the edges of its period from the daily table."""

    month = models.DateField(_("month"))  # its first day
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.CASCADE, related_name="+", verbose_name=_("product")
    )

    class Meta:
        verbose_name = _("product sales per month")
        verbose_name_plural = _("product sales per month")
        indexes = [models.Index(fields=["month", "product"])]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.product_id}: {self.units}"


class VariantSalesMonth(SalesFigures):
    """One variant's sales in one calendar month, all buyers together (see
    ProductSalesMonth)."""

    month = models.DateField(_("month"))
    variant = models.ForeignKey(
        "catalog.Variant", on_delete=models.CASCADE, related_name="+", verbose_name=_("variant")
    )

    class Meta:
        verbose_name = _("variant sales per month")
        verbose_name_plural = _("variant sales per month")
        indexes = [models.Index(fields=["month", "variant"])]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.variant_id}: {self.units}"


class BuyerSalesDay(models.Model):
    """One buyer's sales in one category on one day: units and revenue net of refunds, as
    analytics.sources counts them (a line given back whole is kept at 0, so every buyer with a
    sale that day has a row). The favourite-styles report picks its top buyers from it. The
    buyer's country, salesperson and level are not copied: readers join the distributor, so a
    customer handed over counts for their new salesperson at once."""

    day = models.DateField(_("day"))
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("buyer"),
    )
    category_id = models.IntegerField(_("category"), null=True, blank=True)
    units = models.IntegerField(_("units"), default=0)
    revenue = models.DecimalField(_("revenue"), max_digits=16, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("buyer sales per day")
        verbose_name_plural = _("buyer sales per day")
        indexes = [models.Index(fields=["day", "member"])]

    def __str__(self):
        return f"{self.day} {self.member_id}: {self.revenue}"


class ProductActivityDay(models.Model):
    """One product's page views and cart additions on one day (analytics.rollups)."""

    day = models.DateField(_("day"))
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.CASCADE, related_name="+", verbose_name=_("product")
    )
    views = models.IntegerField(_("views"), default=0)
    cart_adds = models.IntegerField(_("cart additions"), default=0)

    class Meta:
        verbose_name = _("product activity per day")
        verbose_name_plural = _("product activity per day")
        constraints = [
            models.UniqueConstraint(fields=["day", "product"], name="product_activity_day_once")
        ]
        indexes = [models.Index(fields=["product", "day"])]

    def __str__(self):
        return f"{self.day} {self.product_id}: {self.views} views"


class SearchDay(models.Model):
    """One searcher's searches for one term on one day (analytics.rollups): how many, how many
    found nothing, and how many the searcher followed with an order that became a sale within
    the search report's window. A member is the searcher whatever their session; a visitor
    (no member) is their session; searches with neither share one row per term and day. The
    search report reads it, so a year of searches is not joined to the orders per page."""

    day = models.DateField(_("day"))
    term = models.CharField(_("term"), max_length=200)
    member_id = models.IntegerField(_("member"), null=True, blank=True)
    session_key = models.CharField(_("session"), max_length=40, blank=True)  # visitors only
    searches = models.IntegerField(_("searches"), default=0)
    no_results = models.IntegerField(_("searches with no results"), default=0)
    ordered = models.IntegerField(_("searches followed by an order"), default=0)

    class Meta:
        verbose_name = _("searches per day")
        verbose_name_plural = _("searches per day")
        indexes = [models.Index(fields=["day", "term"])]

    def __str__(self):
        return f"{self.day} {self.term!r}: {self.searches}"


class PaymentDay(models.Model):
    """The orders placed on one day with one payment method and currency by buyers of one
    country, and the payment attempts of the orders placed that day, per the attempt's method
    (analytics.rollups). The payments report reads it."""

    day = models.DateField(_("day"))  # the orders' placing day
    method = models.CharField(_("payment method"), max_length=20)
    currency = models.CharField(_("currency"), max_length=3)
    country = models.CharField(_("country"), max_length=2, blank=True)
    orders = models.IntegerField(_("orders placed"), default=0)
    paid = models.IntegerField(_("paid orders"), default=0)
    revenue = models.DecimalField(_("revenue"), max_digits=16, decimal_places=2, default=0)
    payments = models.IntegerField(_("payments"), default=0)
    succeeded = models.IntegerField(_("payments succeeded"), default=0)
    failed = models.IntegerField(_("payments failed"), default=0)

    class Meta:
        verbose_name = _("payments per day")
        verbose_name_plural = _("payments per day")
        indexes = [models.Index(fields=["day"])]

    def __str__(self):
        return f"{self.day} {self.method} {self.currency} {self.country}: {self.orders}"


class RollupRun(models.Model):
    """One refresh of the rollup tables: which days were rebuilt, how many rows, how long."""

    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    first_day = models.DateField(_("first day"), null=True, blank=True)
    last_day = models.DateField(_("last day"), null=True, blank=True)
    days = models.IntegerField(_("days rebuilt"), default=0)
    rows = models.IntegerField(_("rows written"), default=0)

    class Meta:
        verbose_name = _("rollup run")
        verbose_name_plural = _("rollup runs")
        ordering = ["-started_at", "-pk"]

    def __str__(self):
        return f"rollup {self.started_at:%Y-%m-%d %H:%M}: {self.days} days"
