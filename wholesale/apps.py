from django.apps import AppConfig


class WholesaleConfig(AppConfig):
    name = "wholesale"
    verbose_name = "Wholesale"

    def ready(self):
        # Connects the receivers that drop the cached currency table when a rate changes.
        from . import currencies  # noqa: F401
