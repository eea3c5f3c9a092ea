from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxTask(models.Model):
    """A task to hand to the broker, written in the transaction that asks for it
    (wholesale.outbox): if the broker is down when that transaction commits, the row stays and
    the flush job hands it over once the broker is back, so nothing is lost."""

    task_name = models.CharField(_("task"), max_length=200)
    args = models.JSONField(_("arguments"), default=list)
    kwargs = models.JSONField(_("keyword arguments"), default=dict)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("outbox task")
        verbose_name_plural = _("outbox tasks")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.task_name} #{self.pk}"


def _validate_currency_code(code: str) -> None:
    from babel.numbers import is_currency

    if not (len(code) == 3 and code.isalpha() and code.isupper() and is_currency(code)):
        raise ValidationError(
            _("%(code)s is not an ISO 4217 currency code."), params={"code": code}, code="code"
        )


class Currency(models.Model):
    """A currency buyers may see prices in and pay in, and its rate against the base currency
    (settings.WHOLESALE_BASE_CURRENCY), which is always available at rate 1 with or without a
    row. A manual rate always works offline; `auto_update` lets the rates job (wholesale.tasks)
    take it from the configured feed."""

    code = models.CharField(
        _("code"),
        max_length=3,
        unique=True,
        validators=[_validate_currency_code],
        help_text=_("ISO 4217, e.g. EUR."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    rate = models.DecimalField(
        _("rate"),
        max_digits=18,
        decimal_places=8,
        validators=[MinValueValidator(Decimal("0.00000001"))],
        help_text=_("Units of this currency per 1 unit of the base currency."),
    )
    auto_update = models.BooleanField(
        _("update from the rates feed"),
        default=False,
        help_text=_("Take the rate from the configured feed once a day; else it stays as set."),
    )
    updated_at = models.DateTimeField(_("rate updated"), default=timezone.now)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("currency")
        verbose_name_plural = _("currencies")
        ordering = ["position", "code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rate__gt=0),
                name="currency_rate_positive",
                violation_error_message=_("A rate is more than zero."),
            ),
        ]

    def __str__(self):
        return self.code

    def clean(self):
        from django.conf import settings

        if self.code == settings.WHOLESALE_BASE_CURRENCY and self.rate != 1:
            raise ValidationError(
                {"rate": _("The base currency's rate is always 1.")}, code="base_rate"
            )
