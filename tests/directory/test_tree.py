"""Organisations in a tree: creating, changing and moving them, and what the database refuses."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from localsocial.core.models import AuditEvent
from localsocial.directory.models import MAX_DEPTH, Organisation, OrganisationType, Service
from localsocial.directory.services import (
    organisation_create,
    organisation_update,
    service_create,
    service_update,
)
from tests.factories import AreaFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _paths() -> dict[str, tuple[str, int]]:
    return {o.slug: (o.path, o.depth) for o in Organisation.objects.all()}


def test_a_new_organisation_gets_its_path_depth_and_a_slug_from_its_name():
    # Given a trust
    actor = UserFactory()
    trust = organisation_create(actor=actor, name="Riverside NHS Trust", org_type=OrganisationType.NHS_TRUST)
    # When a hospital is added under it
    hospital = organisation_create(
        actor=actor, name="Riverside General Hospital", org_type=OrganisationType.HOSPITAL, parent=trust
    )
    # Then the paths make the tree, and the slugs come from the names
    assert trust.slug == "riverside-nhs-trust"
    assert hospital.slug == "riverside-general-hospital"
    assert trust.path == f"{trust.pk:010d}."
    assert hospital.path == f"{trust.pk:010d}.{hospital.pk:010d}."
    assert (trust.depth, hospital.depth) == (0, 1)
    assert hospital.lineage_ids == [trust.pk, hospital.pk]
    # And the addition is in the audit log
    assert AuditEvent.objects.filter(action="directory.organisation_create", actor=actor).count() == 2


def test_slugs_stay_unique_when_names_repeat_and_use_only_the_slug_alphabet():
    first = organisation_create(actor=None, name="Age UK", org_type=OrganisationType.CHARITY)
    second = organisation_create(actor=None, name="Age UK", org_type=OrganisationType.CHARITY)
    third = organisation_create(actor=None, name="Age_UK!", org_type=OrganisationType.CHARITY)
    welsh = organisation_create(actor=None, name="Cyngor Sir Ynys Môn", org_type=OrganisationType.COUNCIL)
    assert [first.slug, second.slug, third.slug] == ["age-uk", "age-uk-2", "age-uk-3"]
    assert welsh.slug == "cyngor-sir-ynys-mon"


def test_codes_and_postcodes_are_tidied_and_validated_before_saving():
    org = organisation_create(
        actor=None, name="Southwark Council", org_type=OrganisationType.COUNCIL,
        gss_code=" e09000028 ", postcode="se1 2qh", charity_number="",
    )
    assert (org.gss_code, org.postcode) == ("E09000028", "SE1 2QH")
    with pytest.raises(ValidationError) as excinfo:
        organisation_create(
            actor=None, name="Bad", org_type="spaceship", ods_code="R!", postcode="nowhere",
            latitude=123, longitude=0,
        )
    assert {"org_type", "ods_code", "postcode", "latitude"} <= set(excinfo.value.message_dict)
    assert not Organisation.objects.filter(name="Bad").exists()


def test_a_second_organisation_cannot_take_an_ods_code_already_used():
    OrganisationFactory(ods_code="RJ1")
    with pytest.raises(ValidationError) as excinfo:
        organisation_create(actor=None, name="Copy", org_type=OrganisationType.NHS_TRUST, ods_code="rj1")
    assert "ods_code" in excinfo.value.message_dict


def test_moving_an_organisation_moves_its_whole_subtree(tree, django_assert_max_num_queries):
    # Given trust → hospital → department, and a council
    # When the hospital is moved under the council
    organisation_update(actor=None, organisation=tree.hospital, parent=tree.council)
    # Then the hospital and its department have new paths and depths
    paths = _paths()
    council_path = paths["northgate-council"][0]
    assert paths["riverside-general"] == (f"{council_path}{tree.hospital.pk:010d}.", 1)
    assert paths["riverside-maternity"] == (f"{council_path}{tree.hospital.pk:010d}.{tree.department.pk:010d}.", 2)
    assert paths["riverside-nhs-trust"] == (f"{tree.trust.pk:010d}.", 0)
    # And a subtree query on the council finds them
    below = Organisation.objects.filter(path__startswith=council_path).values_list("slug", flat=True)
    assert set(below) == {"northgate-council", "riverside-general", "riverside-maternity"}


def test_moving_to_the_top_makes_a_new_root(tree):
    organisation_update(actor=None, organisation=tree.hospital, parent=None)
    assert _paths()["riverside-general"] == (f"{tree.hospital.pk:010d}.", 0)
    assert _paths()["riverside-maternity"][1] == 1


def test_the_subtree_moves_in_one_update_whatever_its_size(tree, django_assert_num_queries):
    # Given a hospital with 50 departments, each with a ward
    for n in range(50):
        dept = OrganisationFactory(parent=tree.hospital, slug=f"dept-{n}")
        OrganisationFactory(parent=dept, slug=f"ward-{n}")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # When it moves
    with CaptureQueriesContext(connection) as queries:
        organisation_update(actor=None, organisation=tree.hospital, parent=tree.council)
    # Then exactly one UPDATE touched the subtree's paths
    path_updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE") and '"path"' in q["sql"]]
    assert len(path_updates) == 1
    council_path = tree.council.path
    assert Organisation.objects.filter(path__startswith=council_path).count() == 1 + 1 + 1 + 100
    assert all(
        o.path.startswith(council_path) and len(o.path) == (o.depth + 1) * 11
        for o in Organisation.objects.filter(path__startswith=council_path)
    )


@pytest.mark.parametrize("new_parent", ["itself", "child", "grandchild"])
def test_moving_an_organisation_under_itself_is_refused(tree, new_parent):
    target = {"itself": tree.trust, "child": tree.hospital, "grandchild": tree.department}[new_parent]
    before = _paths()
    with pytest.raises(ValidationError) as excinfo:
        organisation_update(actor=None, organisation=tree.trust, parent=target)
    assert "cannot be part of itself" in str(excinfo.value)
    assert _paths() == before
    assert Organisation.objects.get(pk=tree.trust.pk).parent_id is None


def test_an_update_that_changes_nothing_writes_nothing(tree):
    organisation_update(actor=None, organisation=tree.council, name="Northgate Council")
    assert not AuditEvent.objects.filter(action="directory.organisation_update").exists()


def test_an_update_is_audited_with_before_and_after(tree):
    actor = UserFactory()
    area = AreaFactory(gss_code="E09000028", name="Southwark")
    organisation_update(actor=actor, organisation=tree.council, name="Northgate Borough Council", areas_served=[area])
    event = AuditEvent.objects.get(action="directory.organisation_update")
    assert event.actor == actor
    assert event.before["name"] == "Northgate Council"
    assert event.after["name"] == "Northgate Borough Council"
    assert event.after["areas_served"] == [area.pk]
    assert list(Organisation.objects.get(pk=tree.council.pk).areas_served.all()) == [area]


def test_the_tree_has_a_depth_limit(db):
    parent = None
    for level in range(MAX_DEPTH + 1):
        parent = OrganisationFactory(parent=parent, slug=f"level-{level}")
    with pytest.raises(ValidationError):
        organisation_create(actor=None, name="Too deep", org_type=OrganisationType.OTHER, parent=parent)


def test_services_get_slugs_and_are_validated_and_audited(tree):
    actor = UserFactory()
    service = service_create(actor=actor, organisation=tree.hospital, name="A&E", lgsl_id=None, postcode="se1 7eh")
    assert service.slug == "ae"
    assert service.postcode == "SE1 7EH"
    with pytest.raises(ValidationError) as excinfo:
        service_create(actor=actor, organisation=tree.hospital, name="Bad", lgsl_id=0, website="not a url")
    assert {"lgsl_id", "website"} <= set(excinfo.value.message_dict)
    service_update(actor=actor, service=service, name="Emergency department", organisation=tree.trust)
    service.refresh_from_db()
    assert (service.name, service.organisation_id, service.slug) == ("Emergency department", tree.trust.pk, "ae")
    event = AuditEvent.objects.get(action="directory.service_update")
    assert event.before == {"name": "A&E", "organisation_id": tree.hospital.pk}
    # The same values again change nothing
    service_update(actor=actor, service=service, name="Emergency department")
    assert AuditEvent.objects.filter(action="directory.service_update").count() == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ods_code", "rj!"),
        ("gss_code", "X123"),
        ("postcode", "se1 7eh"),
        ("charity_number", "12"),
        ("latitude", 91),
        ("slug", "Not A Slug"),
        ("name", ""),
        ("org_type", "spaceship"),
    ],
)
def test_the_database_refuses_bad_organisation_values_written_directly(tree, field, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        Organisation.objects.filter(pk=tree.council.pk).update(**{field: value, **({"longitude": 0} if field == "latitude" else {})})


def test_the_database_refuses_a_path_that_does_not_match_the_depth(tree):
    with pytest.raises(IntegrityError), transaction.atomic():
        Organisation.objects.filter(pk=tree.council.pk).update(depth=3)


def test_the_database_refuses_an_organisation_as_its_own_parent(tree):
    with pytest.raises(IntegrityError), transaction.atomic():
        Organisation.objects.filter(pk=tree.council.pk).update(parent=tree.council.pk)


def test_the_database_refuses_bad_service_values(tree):
    for values in ({"lgsl_id": 0}, {"postcode": "nowhere"}, {"latitude": 10}, {"slug": "UPPER"}, {"name": ""}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Service.objects.create(organisation=tree.council, **{"name": "S", "slug": "s", **values})


def test_an_organisation_with_children_or_services_cannot_be_deleted(tree):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        tree.trust.delete()
