from django.db import migrations


def sync(apps, schema_editor):
    from staff.roles import roles_sync

    roles_sync(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("catalog", "0005_stock_opening_balances"),
        ("members", "0003_distributor_owner"),
        ("orders", "0005_order_billing"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
