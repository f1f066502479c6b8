"""Test data factories."""

import factory
from allauth.account.models import EmailAddress

from accounts.models import Partner, User

PASSWORD = "correct-horse-battery"


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"Partner {n}")
    tier = Partner.Tier.STANDARD
    allows_reseller = True
    allows_referral = True
    home_country = "BR"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@partner.example")
    full_name = factory.Faker("name")
    partner = factory.SubFactory(PartnerFactory)
    login_mode = User.LoginMode.PASSWORD

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        if self.login_mode == User.LoginMode.PASSWORD:
            self.set_password(extracted or PASSWORD)
        else:
            self.set_unusable_password()
        if create:
            self.save()
            EmailAddress.objects.get_or_create(
                user=self, email=self.email, defaults={"verified": True, "primary": True}
            )


class StaffFactory(UserFactory):
    partner = None
    is_staff = True
    email = factory.Sequence(lambda n: f"staff{n}@wellhub.example")
