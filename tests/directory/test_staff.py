"""Managing an organisation's staff: who may, what they can do, and what is refused."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse

from localsocial.accounts.models import SiteRole
from localsocial.core.models import AuditEvent
from localsocial.directory.models import OrganisationMembership, StaffRole
from localsocial.directory.selectors import organisation_get_for_staff_management
from localsocial.directory.services import membership_add, membership_change, membership_remove
from tests.factories import MembershipFactory, RoleGrantFactory, UserFactory
from tests.helpers import sign_in_verified

pytestmark = pytest.mark.django_db


def _admin_of(org):
    return MembershipFactory(organisation=org, role=StaffRole.ADMINISTRATOR).user


def _staff_url(org, name="directory:staff", **kwargs):
    return reverse(name, kwargs={"slug": org.slug, **kwargs})


# --- Who may manage staff ---------------------------------------------------------------------

def test_an_administrator_manages_their_organisation_and_everything_below_it(tree):
    admin = _admin_of(tree.trust)
    for org in (tree.trust, tree.hospital, tree.department):
        assert admin.has_perm("directory.manage_staff", org)
        assert organisation_get_for_staff_management(user=admin, slug=org.slug) == org
    assert not admin.has_perm("directory.manage_staff", tree.council)


def test_an_administrator_lower_down_cannot_manage_the_organisations_above(tree):
    admin = _admin_of(tree.hospital)
    assert admin.has_perm("directory.manage_staff", tree.department)
    assert not admin.has_perm("directory.manage_staff", tree.trust)
    with pytest.raises(PermissionDenied):
        organisation_get_for_staff_management(user=admin, slug=tree.trust.slug)


@pytest.mark.parametrize("role", [StaffRole.RESPONDER, StaffRole.MEMBER])
def test_staff_who_are_not_administrators_cannot_manage_staff(tree, role):
    person = MembershipFactory(organisation=tree.trust, role=role).user
    assert not person.has_perm("directory.manage_staff", tree.trust)


def test_a_site_admin_may_manage_any_organisation(tree):
    admin = UserFactory()
    RoleGrantFactory(user=admin, role=SiteRole.SITE_ADMIN)
    assert admin.has_perm("directory.manage_staff", tree.council)
    assert admin.has_perm("directory.manage_staff", tree.department)


def test_an_unknown_organisation_is_not_found(tree):
    with pytest.raises(Http404):
        organisation_get_for_staff_management(user=_admin_of(tree.trust), slug="no-such-org")


def test_an_anonymous_visitor_is_sent_to_sign_in(client, tree):
    for url in (
        _staff_url(tree.trust),
        _staff_url(tree.trust, "directory:staff_add"),
        _staff_url(tree.trust, "directory:staff_change", membership_id=1),
        _staff_url(tree.trust, "directory:staff_remove", membership_id=1),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:sign_in"))
        assert "next=" in response["Location"]


def test_staff_of_another_organisation_cannot_see_or_change_its_staff(client, tree):
    other_admin = _admin_of(tree.council)
    victim = MembershipFactory(organisation=tree.trust, role=StaffRole.ADMINISTRATOR)
    sign_in_verified(client, other_admin)
    assert client.get(_staff_url(tree.trust)).status_code == 403
    response = client.post(_staff_url(tree.trust, "directory:staff_add"), {"email": other_admin.email, "role": "administrator"})
    assert response.status_code == 403
    response = client.post(_staff_url(tree.trust, "directory:staff_remove", membership_id=victim.pk))
    assert response.status_code == 403
    response = client.post(
        _staff_url(tree.trust, "directory:staff_change", membership_id=victim.pk), {"role": "member", "job_title": ""}
    )
    assert response.status_code == 403
    assert OrganisationMembership.objects.filter(pk=victim.pk, role=StaffRole.ADMINISTRATOR).exists()
    assert not OrganisationMembership.objects.filter(user=other_admin, organisation=tree.trust).exists()


def test_a_responder_cannot_manage_staff(client, tree):
    responder = MembershipFactory(organisation=tree.trust, role=StaffRole.RESPONDER).user
    sign_in_verified(client, responder)
    assert client.get(_staff_url(tree.trust)).status_code == 403
    assert client.post(_staff_url(tree.trust, "directory:staff_add"), {"email": responder.email, "role": "administrator"}).status_code == 403
    assert OrganisationMembership.objects.get(user=responder).role == StaffRole.RESPONDER


def test_a_membership_of_another_organisation_is_not_found_through_this_one(client, tree):
    admin = _admin_of(tree.council)
    elsewhere = MembershipFactory(organisation=tree.trust)
    sign_in_verified(client, admin)
    url = _staff_url(tree.council, "directory:staff_remove", membership_id=elsewhere.pk)
    assert client.get(url).status_code == 404
    client.post(url)
    assert OrganisationMembership.objects.filter(pk=elsewhere.pk).exists()


# --- The pages --------------------------------------------------------------------------------

def test_the_staff_page_lists_staff_with_change_and_remove_links(client, tree):
    admin = _admin_of(tree.trust)
    person = MembershipFactory(organisation=tree.hospital, role=StaffRole.RESPONDER, job_title="Ward manager")
    sign_in_verified(client, admin)
    html = client.get(_staff_url(tree.hospital)).content.decode()
    assert person.user.email in html
    assert "Ward manager" in html
    assert "Responder" in html
    assert _staff_url(tree.hospital, "directory:staff_change", membership_id=person.pk) in html
    assert "Administrators of Riverside NHS Trust can manage this list too." in html


def test_the_manage_staff_link_on_the_organisation_page_is_for_administrators_only(client, tree):
    responder = MembershipFactory(organisation=tree.trust, role=StaffRole.RESPONDER).user
    sign_in_verified(client, responder)
    assert "Manage staff" not in client.get(tree.trust.get_absolute_url()).content.decode()
    admin = _admin_of(tree.trust)
    sign_in_verified(client, admin)
    html = client.get(tree.hospital.get_absolute_url()).content.decode()
    assert f'href="{_staff_url(tree.hospital)}"' in html


def test_adding_someone_by_email(client, tree):
    admin = _admin_of(tree.trust)
    newcomer = UserFactory(email="newcomer@example.org")
    sign_in_verified(client, admin)
    response = client.post(
        _staff_url(tree.hospital, "directory:staff_add"),
        {"email": "NewComer@Example.org", "role": "responder", "job_title": "Matron"},
    )
    assert response.status_code == 302
    membership = OrganisationMembership.objects.get(user=newcomer, organisation=tree.hospital)
    assert (membership.role, membership.job_title, membership.added_by) == ("responder", "Matron", admin)
    html = client.get(response["Location"]).content.decode()
    assert "newcomer@example.org is now on the staff of Riverside General Hospital" in html
    event = AuditEvent.objects.get(action="directory.staff_add")
    assert event.actor == admin
    assert event.after["role"] == "responder"
    assert event.after["email"] == "newcomer@example.org"


def test_adding_an_email_with_no_account_says_so_clearly(client, tree):
    sign_in_verified(client, _admin_of(tree.trust))
    response = client.post(_staff_url(tree.trust, "directory:staff_add"), {"email": "nobody@example.org", "role": "member"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in html
    assert "There is no account with the email address nobody@example.org" in html
    assert '<a href="#id_email">' in html


def test_the_add_form_reports_every_missing_answer(client, tree):
    sign_in_verified(client, _admin_of(tree.trust))
    html = client.post(_staff_url(tree.trust, "directory:staff_add"), {"email": "", "role": ""}).content.decode()
    assert "Enter the email address of the person to add" in html
    assert "Select a role" in html
    html = client.post(_staff_url(tree.trust, "directory:staff_add"), {"email": "x@example.org", "role": "king"}).content.decode()
    assert "Select a role" in html


def test_adding_twice_is_harmless_and_audited_once(tree):
    admin = _admin_of(tree.trust)
    person = UserFactory()
    first = membership_add(actor=admin, organisation=tree.trust, email=person.email, role="responder")
    second = membership_add(actor=admin, organisation=tree.trust, email=person.email, role="responder")
    assert first[1] is True
    assert second[1] is False
    assert first[0].pk == second[0].pk
    assert AuditEvent.objects.filter(action="directory.staff_add").count() == 1
    with pytest.raises(ValidationError, match="already on the staff"):
        membership_add(actor=admin, organisation=tree.trust, email=person.email, role="administrator")


def test_changing_a_role_and_job_title(client, tree):
    admin = _admin_of(tree.trust)
    person = MembershipFactory(organisation=tree.trust, role=StaffRole.MEMBER, job_title="")
    sign_in_verified(client, admin)
    url = _staff_url(tree.trust, "directory:staff_change", membership_id=person.pk)
    assert 'value="member" checked' in client.get(url).content.decode()
    response = client.post(url, {"role": "responder", "job_title": "Patient experience lead"})
    assert response.status_code == 302
    person.refresh_from_db()
    assert (person.role, person.job_title) == ("responder", "Patient experience lead")
    event = AuditEvent.objects.get(action="directory.staff_change")
    assert event.before["role"] == "member"
    assert event.after["role"] == "responder"
    # The same again changes nothing and adds nothing to the audit log
    client.post(url, {"role": "responder", "job_title": "Patient experience lead"})
    assert AuditEvent.objects.filter(action="directory.staff_change").count() == 1


def test_removing_someone(client, tree):
    admin = _admin_of(tree.trust)
    person = MembershipFactory(organisation=tree.trust)
    sign_in_verified(client, admin)
    url = _staff_url(tree.trust, "directory:staff_remove", membership_id=person.pk)
    assert f"Remove {person.user.email} from the staff?" in client.get(url).content.decode()
    response = client.post(url)
    assert response.status_code == 302
    assert not OrganisationMembership.objects.filter(pk=person.pk).exists()
    event = AuditEvent.objects.get(action="directory.staff_remove")
    assert event.before["email"] == person.user.email
    assert event.after == {}
    # Removing again is harmless
    assert client.post(url).status_code == 302
    assert AuditEvent.objects.filter(action="directory.staff_remove").count() == 1


def test_the_last_administrator_of_a_top_level_organisation_cannot_be_removed_or_demoted(client, tree):
    only_admin = MembershipFactory(organisation=tree.trust, role=StaffRole.ADMINISTRATOR)
    sign_in_verified(client, only_admin.user)
    response = client.post(_staff_url(tree.trust, "directory:staff_remove", membership_id=only_admin.pk))
    assert response.status_code == 409
    assert "must have at least one administrator" in response.content.decode()
    response = client.post(
        _staff_url(tree.trust, "directory:staff_change", membership_id=only_admin.pk), {"role": "member", "job_title": ""}
    )
    assert "must have at least one administrator" in response.content.decode()
    only_admin.refresh_from_db()
    assert only_admin.role == StaffRole.ADMINISTRATOR
    assert not AuditEvent.objects.filter(action__startswith="directory.staff_").exists()


def test_with_a_second_administrator_the_first_can_step_down(tree):
    first = MembershipFactory(organisation=tree.trust, role=StaffRole.ADMINISTRATOR)
    MembershipFactory(organisation=tree.trust, role=StaffRole.ADMINISTRATOR)
    membership_change(actor=first.user, organisation=tree.trust, membership_id=first.pk, role="member", job_title="")
    assert OrganisationMembership.objects.get(pk=first.pk).role == StaffRole.MEMBER


def test_the_last_administrator_of_a_part_of_an_organisation_can_be_removed(tree):
    # The trust's administrators still manage the hospital.
    only = MembershipFactory(organisation=tree.hospital, role=StaffRole.ADMINISTRATOR)
    assert membership_remove(actor=None, organisation=tree.hospital, membership_id=only.pk) is True


def test_an_administrator_removed_loses_access(client, tree):
    admin = MembershipFactory(organisation=tree.hospital, role=StaffRole.ADMINISTRATOR)
    sign_in_verified(client, admin.user)
    assert client.get(_staff_url(tree.hospital)).status_code == 200
    membership_remove(actor=None, organisation=tree.hospital, membership_id=admin.pk)
    assert client.get(_staff_url(tree.hospital)).status_code == 403


def test_staff_without_two_factor_are_sent_to_set_it_up(client, tree):
    admin = _admin_of(tree.trust)
    client.force_login(admin)
    response = client.get(_staff_url(tree.trust))
    assert response.status_code == 302
    assert "/two-factor/" in response["Location"]


@pytest.mark.parametrize("count", [10, 200])
def test_the_staff_page_is_a_fixed_number_of_queries(client, tree, django_assert_num_queries, count):
    admin = _admin_of(tree.trust)
    for _ in range(count):
        MembershipFactory(organisation=tree.hospital)
    sign_in_verified(client, admin)
    # session, user, two-factor device, organisation, site roles, administrator check,
    # one page of staff, the organisations above
    with django_assert_num_queries(8):
        response = client.get(_staff_url(tree.hospital))
    assert response.status_code == 200
