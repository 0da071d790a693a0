"""``localsocial generate``: a large fictional dataset, with valid trees, that --reset removes."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from localsocial.accounts.models import RoleGrant, User
from localsocial.core.generate import (
    GENERATED_PASSWORD,
    GenerateContext,
    GenerationPlan,
    generator_step,
)
from localsocial.core.generate import engine as generator_engine
from localsocial.directory.models import (
    PATH_STEP,
    Area,
    Organisation,
    OrganisationMembership,
    OrganisationType,
    Service,
)
from tests.factories import PASSWORD, OrganisationFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db

GENERATED_EMAIL = "@generated.invalid"


def run_generate(*args: str) -> str:
    out = StringIO()
    call_command("generate", *args, stdout=out)
    return out.getvalue()


def generated_counts() -> dict[str, int]:
    orgs = Organisation.objects.filter(slug__startswith="gen-")
    return {
        "organisations": orgs.count(),
        "services": Service.objects.filter(slug__startswith="gen-").count(),
        "users": User.objects.filter(email__endswith=GENERATED_EMAIL).count(),
        "areas": Area.objects.filter(gss_code__regex=r"^E0[56]9").count(),
        "memberships": OrganisationMembership.objects.filter(organisation__in=orgs).count(),
        "role_grants": RoleGrant.objects.filter(user__email__endswith=GENERATED_EMAIL).count(),
        "served": Organisation.areas_served.through.objects.filter(organisation__in=orgs).count(),
    }


def test_scale_one_is_about_ten_thousand_organisations_and_services_and_100k_people():
    plan = GenerationPlan.for_scale(1)

    assert plan.organisations + plan.services == 10_160
    assert plan.users == 100_000
    assert GenerationPlan.for_scale(10).users == 1_000_000
    with pytest.raises(ValueError, match="more than 0"):
        GenerationPlan.for_scale(0)


def test_a_small_scale_generates_the_expected_counts():
    # When a hundredth of scale 1 is generated
    output = run_generate("--scale", "0.01")

    # Then: 1 council (26 organisations, 40 services), 1 trust (29, 48), 2 charities (2, 2)
    assert generated_counts() == {
        "organisations": 57, "services": 90, "users": 1000, "areas": 9, "memberships": 17,
        "role_grants": 3, "served": 1 + 1 + 2,
    }
    # And every step reports its rows and rate
    for step in ["directory.organisations", "directory.services", "accounts.users"]:
        assert step in output
    assert "rows/s" in output


def test_generated_trees_have_correct_paths_and_shapes():
    run_generate("--scale", "0.01")

    orgs = {org.pk: org for org in Organisation.objects.filter(slug__startswith="gen-")}
    for org in orgs.values():
        segment = f"{org.pk:010d}."
        if org.parent_id is None:
            assert (org.path, org.depth) == (segment, 0)
        else:
            parent = orgs[org.parent_id]
            assert org.path == parent.path + segment
            assert org.depth == parent.depth + 1
        assert len(org.path) == (org.depth + 1) * PATH_STEP
    council = Organisation.objects.get(slug__startswith="gen-", org_type=OrganisationType.COUNCIL)
    subtree = Organisation.objects.filter(path__startswith=council.path)
    assert subtree.filter(depth=1, org_type=OrganisationType.DIRECTORATE).count() == 5
    assert subtree.filter(depth=2, org_type=OrganisationType.SERVICE_TEAM).count() == 20
    assert Service.objects.filter(organisation__in=subtree, lgsl_id__isnull=False).exists()
    trust = Organisation.objects.get(slug__startswith="gen-", org_type=OrganisationType.NHS_TRUST)
    assert Organisation.objects.filter(path__startswith=trust.path, depth=2).count() == 24


def test_generated_rows_pass_every_validator_and_constraint():
    run_generate("--scale", "0.01")

    # full_clean runs the field validators (GSS, ODS, postcode, slug, URL, email) and the
    # model's constraints and uniqueness checks, as a form would.
    for org in Organisation.objects.filter(slug__startswith="gen-"):
        org.full_clean()
    for service in Service.objects.filter(slug__startswith="gen-"):
        service.full_clean()
    for area in Area.objects.all():
        area.full_clean()
    for user in User.objects.filter(email__endswith=GENERATED_EMAIL)[:50]:
        user.full_clean()
        assert user.email_verified_at is not None
    for membership in OrganisationMembership.objects.all():
        membership.full_clean()


def test_generated_people_share_one_working_password():
    run_generate("--scale", "0.01")

    people = User.objects.filter(email__endswith=GENERATED_EMAIL)
    assert people.values("password").distinct().count() == 1
    assert people.first().check_password(GENERATED_PASSWORD)


def test_ordinary_writes_still_work_after_generating():
    # Given data made the ordinary way before and after a generated batch
    OrganisationFactory()
    run_generate("--scale", "0.01")

    # When more is added the ordinary way, the id sequences have moved past the generated ids
    org = OrganisationFactory()
    service = ServiceFactory(organisation=org)
    user = UserFactory()

    assert org.pk > Organisation.objects.filter(slug__startswith="gen-").latest("pk").pk
    assert service.pk > Service.objects.filter(slug__startswith="gen-").latest("pk").pk
    assert user.check_password(PASSWORD)


def test_generating_twice_adds_a_second_batch_without_clashes():
    run_generate("--scale", "0.01")
    run_generate("--scale", "0.01", "--seed", "2")

    counts = generated_counts()
    assert counts["organisations"] == 2 * 57
    assert counts["users"] == 2 * 1000


def test_reset_removes_generated_rows_and_nothing_else():
    # Given ordinary data with a generated batch on top
    own_user = UserFactory()
    own_service = ServiceFactory()
    run_generate("--scale", "0.01")

    # When the generated data is reset
    output = run_generate("--reset")

    # Then every generated row is gone and the ordinary data is still there
    assert set(generated_counts().values()) == {0}
    assert User.objects.filter(pk=own_user.pk).exists()
    assert Service.objects.filter(pk=own_service.pk).exists()
    assert Organisation.objects.filter(pk=own_service.organisation_id).exists()
    assert "reset accounts.users" in output


def test_reset_with_scale_replaces_the_generated_data():
    run_generate("--scale", "0.01")

    run_generate("--scale", "0.02", "--reset")

    assert generated_counts()["users"] == 2000


def test_a_module_can_add_its_own_step(monkeypatch):
    # Given a step registered the way a module's generate.py would
    seen: dict[str, int] = {}
    resets: list[str] = []
    monkeypatch.setattr(generator_engine, "_STEPS", dict(generator_engine._STEPS))

    def extra_reset() -> int:
        resets.append("done")
        return 0

    @generator_step("tests.extra", order=1000, reset=extra_reset)
    def extra(ctx: GenerateContext) -> int:
        seen["users"] = len(ctx.ids["users"])
        seen["services"] = len(ctx.ids["services"])
        return 7

    # When generating, then it runs after the directory and people, with their ids
    output = run_generate("--scale", "0.01")
    assert seen == {"users": 1000, "services": 90}
    assert "tests.extra" in output

    # And its reset runs first when resetting
    run_generate("--reset")
    assert resets == ["done"]


def test_the_command_explains_what_it_needs():
    with pytest.raises(CommandError, match="--scale"):
        run_generate()
    with pytest.raises(CommandError, match="more than 0"):
        run_generate("--scale", "0")
