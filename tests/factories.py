"""factory_boy factories shared by every test module."""

from __future__ import annotations

import factory
from django.utils import timezone

from localsocial.accounts.models import RoleGrant, SiteRole, User
from localsocial.directory.models import (
    Area,
    Organisation,
    OrganisationMembership,
    OrganisationType,
    Service,
    StaffRole,
)

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    display_name = factory.Faker("first_name", locale="en_GB")
    email_verified_at = factory.LazyFunction(timezone.now)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class RoleGrantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoleGrant

    user = factory.SubFactory(UserFactory)
    role = SiteRole.MODERATOR


class AreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Area
        django_get_or_create = ("gss_code",)

    gss_code = factory.Sequence(lambda n: f"E0900{n:04d}")
    name = factory.Sequence(lambda n: f"Area {n}")
    area_type = "London borough"


class OrganisationFactory(factory.django.DjangoModelFactory):
    """Builds an organisation with its tree fields filled in, as the directory services do."""

    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.Sequence(lambda n: f"organisation-{n}")
    org_type = OrganisationType.COUNCIL
    parent = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from localsocial.directory.services import organisation_set_path

        obj = super()._create(model_class, *args, **kwargs)
        organisation_set_path(organisation=obj)
        return obj


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Service {n}")
    slug = factory.Sequence(lambda n: f"service-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrganisationMembership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = StaffRole.RESPONDER
    job_title = "Patient experience lead"
