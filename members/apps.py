from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Members")

    def ready(self):
        # checks registers the deployment checks; levels drops the cached levels on a save
        from . import checks, levels  # noqa: F401
