from django.core.management.base import BaseCommand

from staff.roles import roles_sync


class Command(BaseCommand):
    help = "Create the staff role groups and give each exactly the permissions of staff.roles."

    def handle(self, *args, **options):
        counts = roles_sync()
        for role, count in counts.items():
            self.stdout.write(f"{role}: {count} permissions")
