from django.db import migrations


def sync(apps, schema_editor):
    from staff.roles import roles_sync

    roles_sync(apps)


class Migration(migrations.Migration):
    dependencies = [("staff", "0005_handover_showcase_inquiries_followups")]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
