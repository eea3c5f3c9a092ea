from django.db import migrations


def sync(apps, schema_editor):
    from staff.roles import roles_sync

    roles_sync(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0007_followup_templates"),
        ("members", "0006_default_levels_and_points_rules"),
        ("catalog", "0006_reviews"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
