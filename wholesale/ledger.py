"""Append-only rows: the stock ledger, the ownership history, the order history.

A model that mixes in AppendOnly (with AppendOnlyQuerySet as its manager) can be inserted
through the ORM but never updated or deleted: a correction is a new row. A parent deleted by
cascade (a test clean-up, say) still takes its rows along, as the database would.
"""

from __future__ import annotations

from django.db import models


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an append-only row through the ORM."""


def _refuse(model) -> None:
    raise AppendOnlyError(
        f"{model._meta.verbose_name_plural.capitalize()} are append-only: record a new row instead."
    )


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        _refuse(self.model)

    def delete(self):
        _refuse(self.model)


class AppendOnly(models.Model):
    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            _refuse(self)
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        _refuse(self)
