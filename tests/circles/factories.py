"""factory_boy factories for circles tests."""

from __future__ import annotations

import datetime as dt

import factory

from localsocial.circles.models import (
    Circle,
    CircleCoordinator,
    DbsStatus,
    Helper,
    HelperKind,
    Member,
    TokenBundle,
)
from tests.factories import UserFactory


class CircleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Circle
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Circle {n}")
    slug = factory.Sequence(lambda n: f"circle-{n}")
    annual_fee_pence = 1000
    minimum_age = 50


class CoordinatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CircleCoordinator

    circle = factory.SubFactory(CircleFactory)
    user = factory.SubFactory(UserFactory)


class TokenBundleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TokenBundle

    circle = factory.SubFactory(CircleFactory)
    name = factory.Sequence(lambda n: f"Bundle {n}")
    quarters = 12  # 3 tokens
    price_pence = 3000


class MemberFactory(factory.django.DjangoModelFactory):
    """An active member who joined online and said they are eligible."""

    class Meta:
        model = Member

    circle = factory.SubFactory(CircleFactory)
    user = factory.SubFactory(UserFactory)
    display_name = factory.Sequence(lambda n: f"Member {n}")
    phone = "020 7946 0000"
    eligibility_confirmed = True


class HelperFactory(factory.django.DjangoModelFactory):
    """A volunteer with a clear DBS check valid for another year, references and training."""

    class Meta:
        model = Helper

    circle = factory.SubFactory(CircleFactory)
    user = factory.SubFactory(UserFactory)
    kind = HelperKind.VOLUNTEER
    display_name = factory.Sequence(lambda n: f"Helper {n}")
    dbs_status = DbsStatus.CLEAR
    dbs_checked_on = factory.LazyFunction(lambda: dt.date.today() - dt.timedelta(days=30))
    dbs_expires_on = factory.LazyFunction(lambda: dt.date.today() + dt.timedelta(days=365))
    references_checked = True
    training_completed_on = factory.LazyFunction(lambda: dt.date.today() - dt.timedelta(days=20))
