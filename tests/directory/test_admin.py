"""The directory in the Django admin: registered, searchable, and saved through the services."""

from __future__ import annotations

import pytest

from localsocial.core.models import AuditEvent
from localsocial.directory.models import Organisation, OrganisationMembership, StaffRole
from tests.factories import MembershipFactory, OrganisationFactory, ServiceFactory, UserFactory
from tests.helpers import sign_in_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    superuser = UserFactory(is_superuser=True, is_staff=True)
    return sign_in_verified(client, superuser)


@pytest.mark.parametrize("model", ["area", "organisation", "service", "organisationmembership"])
def test_each_directory_model_has_a_searchable_admin_list(admin_client, tree, model):
    ServiceFactory(organisation=tree.hospital)
    MembershipFactory(organisation=tree.hospital)
    response = admin_client.get(f"/site-admin/directory/{model}/", {"q": "riverside"})
    assert response.status_code == 200


def test_adding_an_organisation_in_the_admin_sets_its_path_and_is_audited(admin_client, tree):
    response = admin_client.post(
        "/site-admin/directory/organisation/add/",
        {"name": "Children's ward", "slug": "childrens-ward", "org_type": "department", "parent": tree.hospital.pk,
         "charity_number": "", "description": "", "website": "", "email": "", "phone": "", "address": "",
         "postcode": "", "created_at_0": "2025-01-01", "created_at_1": "10:00:00"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    ward = Organisation.objects.get(slug="childrens-ward")
    assert ward.path == tree.hospital.path + f"{ward.pk:010d}."
    assert ward.depth == 2
    assert AuditEvent.objects.filter(action="directory.organisation_create", target_id=str(ward.pk)).exists()


def test_moving_an_organisation_in_the_admin_moves_its_subtree(admin_client, tree):
    response = admin_client.post(
        f"/site-admin/directory/organisation/{tree.hospital.pk}/change/",
        {"name": tree.hospital.name, "slug": tree.hospital.slug, "org_type": "hospital", "parent": tree.council.pk,
         "charity_number": "", "description": "", "website": "", "email": "", "phone": "", "address": "",
         "postcode": "", "created_at_0": "2025-01-01", "created_at_1": "10:00:00"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    tree.department.refresh_from_db()
    assert tree.department.path.startswith(tree.council.path)


def test_the_admin_refuses_a_loop(admin_client, tree):
    response = admin_client.post(
        f"/site-admin/directory/organisation/{tree.trust.pk}/change/",
        {"name": tree.trust.name, "slug": tree.trust.slug, "org_type": "nhs_trust", "parent": tree.department.pk,
         "charity_number": "", "description": "", "website": "", "email": "", "phone": "", "address": "",
         "postcode": "", "created_at_0": "2025-01-01", "created_at_1": "10:00:00"},
    )
    assert response.status_code == 200
    assert "cannot be part of itself" in response.content.decode()
    tree.trust.refresh_from_db()
    assert tree.trust.parent_id is None


def test_deleting_the_last_administrator_in_the_admin_is_refused(admin_client):
    top = OrganisationFactory()
    only = MembershipFactory(organisation=top, role=StaffRole.ADMINISTRATOR)
    admin_client.post(f"/site-admin/directory/organisationmembership/{only.pk}/delete/", {"post": "yes"})
    assert OrganisationMembership.objects.filter(pk=only.pk).exists()
