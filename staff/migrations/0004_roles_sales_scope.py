from django.db import migrations


def sync(apps, schema_editor):
    from staff.roles import roles_sync

    roles_sync(apps)


class Migration(migrations.Migration):
    dependencies = [("staff", "0003_sales_scope_permission")]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
