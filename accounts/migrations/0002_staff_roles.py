"""Create the staff role groups (accounts/roles.py) in every database."""

from django.db import migrations

# Frozen here, as a migration must be: the names as accounts/roles.py had them when written.
STAFF_ROLES = ("Support", "Channel Partner AE", "Dealdesk")


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in STAFF_ROLES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
