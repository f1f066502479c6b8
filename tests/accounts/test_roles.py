"""Staff roles exist in every database, created by a migration, not only by the demo."""

from django.contrib.auth.models import Group

from accounts.roles import AE_GROUP, DEALDESK_GROUP, STAFF_ROLES, SUPPORT_GROUP
from requests_app.selectors import choose_ae
from tests.factories import PartnerFactory, StaffFactory


def test_a_fresh_database_has_the_three_staff_roles(db):
    assert set(STAFF_ROLES) == {"Support", "Channel Partner AE", "Dealdesk"}
    assert set(Group.objects.values_list("name", flat=True)) >= {
        SUPPORT_GROUP,
        AE_GROUP,
        DEALDESK_GROUP,
    }


def test_choose_ae_finds_an_ae_of_the_migrated_group(db):
    ae = StaffFactory()
    ae.groups.add(Group.objects.get(name=AE_GROUP))
    StaffFactory()  # staff without the AE role is never chosen
    partner = PartnerFactory(designated_ae=None)
    assert choose_ae(partner=partner) == ae
