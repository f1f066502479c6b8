"""Grant each staff role (accounts/roles.py) only the permissions its work needs.

Permissions are normally created after all migrations ran (post_migrate), so the ones granted
here are created here if they do not exist yet; post_migrate then finds them.
"""

from django.db import migrations

# Frozen here, as a migration must be: (app label, model, codename action) per role.
VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"
ROLE_PERMISSIONS = {
    "Support": [
        ("accounts", "user", (VIEW, ADD, CHANGE)),
        ("accounts", "partner", (VIEW, ADD, CHANGE)),
        ("support", "problemreport", (VIEW, CHANGE, DELETE)),
        ("requests_app", "partnerrequest", (VIEW,)),
        ("requests_app", "requestevent", (VIEW,)),
        ("bulk", "bulkcheckjob", (VIEW,)),
    ],
    "Channel Partner AE": [
        ("requests_app", "partnerrequest", (VIEW, CHANGE)),
        ("requests_app", "requestevent", (VIEW,)),
        ("accounts", "partner", (VIEW,)),
        ("eligibility", "company", (VIEW,)),
        ("eligibility", "product", (VIEW,)),
        ("eligibility", "subscription", (VIEW,)),
    ],
    "Dealdesk": [
        ("requests_app", "partnerrequest", (VIEW, "decide_bulk_launch")),
        ("requests_app", "requestevent", (VIEW,)),
    ],
}
CUSTOM_NAMES = {"decide_bulk_launch": "Can approve or reject bulk launches"}


def _permission(apps, app_label, model, action):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
    verbose = apps.get_model(app_label, model)._meta.verbose_name_raw
    if action in (VIEW, ADD, CHANGE, DELETE):
        codename, name = f"{action}_{model}", f"Can {action} {verbose}"
    else:
        codename, name = action, CUSTOM_NAMES[action]
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type, codename=codename, defaults={"name": name}
    )
    return permission


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for role, grants in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(
            [
                _permission(apps, app_label, model, action)
                for app_label, model, actions in grants
                for action in actions
            ]
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name__in=ROLE_PERMISSIONS):
        group.permissions.clear()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_user_language_time_zone"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("bulk", "0001_initial"),
        ("eligibility", "0001_initial"),
        ("requests_app", "0002_bulk_launch_permission"),
        ("support", "0001_initial"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
