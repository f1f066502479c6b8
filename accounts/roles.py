"""Staff roles: the auth groups that say what a staff member does (DESIGN §8).

The groups are created by a migration (accounts/migrations/0002_staff_roles.py), so they exist
in every database, not only in the demo. What each role may see and change is granted on them.
"""

SUPPORT_GROUP = "Support"
AE_GROUP = "Channel Partner AE"  # account executives: assigned launch requests (choose_ae)
DEALDESK_GROUP = "Dealdesk"  # approves premium partners' bulk launches

STAFF_ROLES = (SUPPORT_GROUP, AE_GROUP, DEALDESK_GROUP)
