from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "staff"

    def ready(self):
        from members.signals import distributor_registered

        from .receivers import distributor_registered_assign_owner

        distributor_registered.connect(
            distributor_registered_assign_owner, dispatch_uid="staff.assign_owner"
        )

        from .showcase import showcase_receivers_connect

        showcase_receivers_connect()
