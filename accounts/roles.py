"""Staff roles: the auth groups that say what a staff member does (DESIGN §8).

The groups are created by a migration (accounts/migrations/0002_staff_roles.py), so they exist
in every database, not only in the demo. What each role may see and change is granted on them
by accounts/migrations/0004_role_permissions.py:

- Support: partner users and partners (invite, reactivate, block, resend the welcome), problem
  reports; requests and bulk jobs read-only.
- Channel Partner AE: requests (the status changes of their work); partners and the registry
  read-only.
- Dealdesk: approving and rejecting pending bulk launches; requests read-only.

Superusers keep every permission.
"""

SUPPORT_GROUP = "Support"
AE_GROUP = "Channel Partner AE"  # account executives: assigned launch requests (choose_ae)
DEALDESK_GROUP = "Dealdesk"  # approves premium partners' bulk launches

STAFF_ROLES = (SUPPORT_GROUP, AE_GROUP, DEALDESK_GROUP)

# `create_staff --role` names the roles in short.
ROLE_OPTIONS = {"support": SUPPORT_GROUP, "ae": AE_GROUP, "dealdesk": DEALDESK_GROUP}

# The Dealdesk's decision on bulk launches (granted to the Dealdesk group only).
DECIDE_BULK_LAUNCH = "requests_app.decide_bulk_launch"
