from django.db import migrations


def sync(apps, schema_editor):
    from staff.roles import roles_sync

    roles_sync(apps)


class Migration(migrations.Migration):
    """The roles read the reports DESIGN.md gives them (staff.roles)."""

    dependencies = [
        ("analytics", "0001_report_access"),
        ("staff", "0009_roles_schedule"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
