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


# --- Stories -----------------------------------------------------------------------------------


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "stories.Tag"
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Tag {n}")
    slug = factory.Sequence(lambda n: f"tag-{n}")
    polarity = "good"


class StoryFactory(factory.django.DjangoModelFactory):
    """A story.  By default a published one about one new service, with its list rows
    written as the services write them; pass ``status="pending"`` for one in the queue,
    ``services=[...]`` and ``tags=[...]`` to choose them."""

    class Meta:
        model = "stories.Story"
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Story number {n} about my visit")
    body = "The nurse explained everything and the wait was short. I felt listened to."
    feelings = "Reassured."
    author_email = factory.Sequence(lambda n: f"author{n}@example.org")
    pseudonym = factory.Sequence(lambda n: f"Author {n}")
    author_role = "patient"
    happened_month = factory.LazyFunction(lambda: timezone.now().date().replace(day=1))
    author_token_hash = factory.Sequence(lambda n: f"{n:064x}")
    text_hash = factory.Sequence(lambda n: f"t{n:063x}")
    status = "published"
    criticality = 0
    published_at = factory.LazyAttribute(lambda o: timezone.now() if o.status in ("published", "restricted") else None)
    withdrawn_at = factory.LazyAttribute(lambda o: timezone.now() if o.status == "withdrawn" else None)
    held_until = factory.LazyAttribute(lambda o: timezone.now() if o.status == "held" else None)

    @factory.post_generation
    def services(obj, create, extracted, **kwargs):  # noqa: N805
        if not create:
            return
        from localsocial.stories.models import StoryService

        services = extracted if extracted is not None else [ServiceFactory()]
        StoryService.objects.bulk_create(
            [StoryService(story=obj, service=s, position=i) for i, s in enumerate(services)]
        )

    @factory.post_generation
    def tags(obj, create, extracted, **kwargs):  # noqa: N805
        if create and extracted:
            obj.tags.set(extracted)

    @factory.post_generation
    def listed(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            from localsocial.stories.models import StoryRevision
            from localsocial.stories.services.listing import story_listing_refresh

            StoryRevision.objects.create(
                story=obj, kind=StoryRevision.Kind.ORIGINAL, title=obj.title, body=obj.body, feelings=obj.feelings
            )
            story_listing_refresh(story=obj)


class ResponseFactory(factory.django.DjangoModelFactory):
    """A published response from an organisation the story is about (pass ``organisation``
    and ``responder`` to choose)."""

    class Meta:
        model = "stories.Response"

    story = factory.SubFactory(StoryFactory)
    organisation = factory.LazyAttribute(lambda o: o.story.story_services.first().service.organisation)
    responder = factory.SubFactory(UserFactory)
    signature = "Sam Patel, Patient experience lead"
    body = "Thank you for telling us. We have shared your story with the team."
    status = "published"
    published_at = factory.LazyFunction(timezone.now)
