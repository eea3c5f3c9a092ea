from django.db import migrations


def sync(apps, schema_editor):
    from staff.roles import roles_sync

    roles_sync(apps)


class Migration(migrations.Migration):
    """Whoever edits products and categories edits their translations (staff.roles)."""

    dependencies = [
        ("staff", "0009_roles_schedule"),
        ("catalog", "0009_content_translations"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
