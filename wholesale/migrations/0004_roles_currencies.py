from django.db import migrations


def sync(apps, schema_editor):
    from staff.roles import roles_sync

    roles_sync(apps)


class Migration(migrations.Migration):
    """Finance manages the currencies and their rates; the manager sees them (staff.roles)."""

    dependencies = [
        ("wholesale", "0003_currencies_seed"),
        ("staff", "0009_roles_schedule"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
