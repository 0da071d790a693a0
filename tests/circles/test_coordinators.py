"""Coordinators add and remove each other (a circle always keeps one), a new coordinator is
told to set up two-step verification, and site administrators start new circles."""

from __future__ import annotations

import html

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from localsocial.accounts.models import SiteRole
from localsocial.circles.models import Account, AccountKind, Circle, CircleCoordinator
from localsocial.circles.services.circles import (
    CircleNew,
    circle_create,
    coordinator_add_by_email,
    coordinator_remove,
)
from localsocial.core.models import AuditEvent
from tests.circles.factories import CircleFactory, CoordinatorFactory
from tests.factories import AreaFactory, OrganisationFactory, RoleGrantFactory, UserFactory
from tests.helpers import CommittingClient, sign_in_verified

pytestmark = pytest.mark.django_db

PAGE = "/circles/southwark/coordinate/coordinators/"


@pytest.fixture
def circle():
    return CircleFactory(name="Southwark Circle", slug="southwark")


@pytest.fixture
def coordinator(circle):
    return CoordinatorFactory(circle=circle, user=UserFactory(display_name="Carol Coordinator")).user


@pytest.fixture
def admin():
    user = UserFactory(display_name="Ada Admin")
    RoleGrantFactory(user=user, role=SiteRole.SITE_ADMIN)
    return user


def signed_in(user):
    return sign_in_verified(CommittingClient(), user)


def main_text(response) -> str:
    return html.unescape(response.content.decode().split("<main", 1)[1].split("</main>", 1)[0])


# --- Adding ----------------------------------------------------------------------------------

def test_a_coordinator_adds_another_by_email_and_they_are_told_to_set_up_two_step_verification(circle, coordinator):
    # Given a coordinator and someone with an account
    newcomer = UserFactory(email="dev@example.org", display_name="Dev Patel")

    # When the coordinator adds them by their address, written in capitals
    response = signed_in(coordinator).post(PAGE, {"email": "DEV@example.org"}, follow=True)

    # Then they are a coordinator, the page says so, it is audited, and they are emailed
    assert CircleCoordinator.objects.filter(circle=circle, user=newcomer).exists()
    page = main_text(response)
    assert "Dev Patel is now a coordinator." in page
    assert "dev@example.org" in page
    event = AuditEvent.objects.get(action="circles.coordinator_add")
    assert event.actor_id == coordinator.pk
    (message,) = mail.outbox
    assert message.to == ["dev@example.org"]
    assert message.subject == "You are now a coordinator of Southwark Circle"
    assert "set up two-step verification" in message.body
    assert "/accounts/two-factor/setup/" in message.body


def test_a_new_coordinator_must_set_up_two_step_verification_before_using_the_pages(circle, coordinator):
    # Given someone just added as a coordinator, signed in with their password only
    newcomer = UserFactory(email="dev@example.org")
    signed_in(coordinator).post(PAGE, {"email": "dev@example.org"})
    client = CommittingClient()
    client.force_login(newcomer)

    # When they open the coordinators' pages
    response = client.get("/circles/southwark/coordinate/")

    # Then they are sent to set up two-step verification first
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/two-factor/")


def test_adding_an_unknown_address_says_so_and_adds_nobody(circle, coordinator):
    response = signed_in(coordinator).post(PAGE, {"email": "nobody@example.org"})

    page = main_text(response)
    assert response.status_code == 400
    assert "There is a problem" in page
    assert "There is no account with this email address" in page
    assert 'value="nobody@example.org"' in page
    assert CircleCoordinator.objects.filter(circle=circle).count() == 1
    assert mail.outbox == []


def test_a_closed_account_is_treated_as_unknown(circle, coordinator):
    UserFactory(email="gone@example.org", is_active=False)

    response = signed_in(coordinator).post(PAGE, {"email": "gone@example.org"})

    assert "There is no account with this email address" in main_text(response)
    assert CircleCoordinator.objects.filter(circle=circle).count() == 1


def test_a_badly_written_address_is_explained(circle, coordinator):
    response = signed_in(coordinator).post(PAGE, {"email": "not an address"})

    assert "Enter an email address in the correct format" in main_text(response)


def test_adding_someone_twice_changes_nothing(circle, coordinator):
    UserFactory(email="dev@example.org", display_name="Dev Patel")
    client = signed_in(coordinator)
    client.post(PAGE, {"email": "dev@example.org"})

    again = client.post(PAGE, {"email": "dev@example.org"}, follow=True)

    assert "Dev Patel is already a coordinator." in main_text(again)
    assert CircleCoordinator.objects.filter(circle=circle).count() == 2
    assert len(mail.outbox) == 1


def test_a_coordinator_of_another_circle_cannot_add_coordinators_here(circle):
    # Given a coordinator of circle B
    other = CoordinatorFactory(circle=CircleFactory(slug="lambeth")).user
    UserFactory(email="dev@example.org")

    # When they try to add a coordinator to circle A, by page or by service
    response = signed_in(other).post(PAGE, {"email": "dev@example.org"})

    # Then they are refused
    assert response.status_code == 403
    with pytest.raises(PermissionDenied):
        coordinator_add_by_email(circle=circle, actor=other, email="dev@example.org")
    assert not CircleCoordinator.objects.filter(circle=circle).exists()


def test_the_coordinators_page_makes_a_fixed_number_of_queries(circle, coordinator, django_assert_max_num_queries):
    for number in range(6):
        CoordinatorFactory(circle=circle, user=UserFactory(display_name=f"Helper coordinator {number}"))
    client = signed_in(coordinator)
    client.get(PAGE)

    with django_assert_max_num_queries(14):
        page = main_text(client.get(PAGE))

    assert page.count("Remove") == 7


# --- Removing --------------------------------------------------------------------------------

def test_a_coordinator_removes_another_after_confirming(circle, coordinator):
    # Given two coordinators
    colleague = CoordinatorFactory(circle=circle, user=UserFactory(display_name="Dev Patel"))
    client = signed_in(coordinator)
    url = f"{PAGE}{colleague.pk}/remove/"

    # When one asks to remove the other, sees the question, and confirms
    question = client.get(url)
    done = client.post(url, follow=True)

    # Then the colleague is no longer a coordinator, and it is audited
    assert "Remove Dev Patel as a coordinator?" in main_text(question)
    assert "Dev Patel is no longer a coordinator." in main_text(done)
    assert list(CircleCoordinator.objects.filter(circle=circle).values_list("user_id", flat=True)) == [coordinator.pk]
    assert AuditEvent.objects.filter(action="circles.coordinator_remove", actor_id=coordinator.pk).count() == 1


def test_the_last_coordinator_cannot_be_removed(circle, coordinator):
    # Given a circle with one coordinator
    only = CircleCoordinator.objects.get(circle=circle)

    # When they try to remove themselves, by service or by page
    with pytest.raises(ValidationError, match="at least one coordinator"):
        coordinator_remove(circle=circle, actor=coordinator, coordinator_id=only.pk)
    response = signed_in(coordinator).post(f"{PAGE}{only.pk}/remove/")

    # Then they are still the coordinator, and the page says why
    assert response.status_code == 400
    assert "A circle must have at least one coordinator" in main_text(response)
    assert CircleCoordinator.objects.filter(pk=only.pk).exists()


def test_a_coordinator_may_remove_themselves_when_another_remains(circle, coordinator):
    CoordinatorFactory(circle=circle)
    mine = CircleCoordinator.objects.get(circle=circle, user=coordinator)

    response = signed_in(coordinator).post(f"{PAGE}{mine.pk}/remove/")

    assert response["Location"] == "/circles/southwark/"
    assert not CircleCoordinator.objects.filter(pk=mine.pk).exists()
    assert CircleCoordinator.objects.filter(circle=circle).count() == 1


def test_removing_someone_already_removed_changes_nothing(circle, coordinator):
    colleague = CoordinatorFactory(circle=circle)
    coordinator_remove(circle=circle, actor=coordinator, coordinator_id=colleague.pk)

    assert coordinator_remove(circle=circle, actor=coordinator, coordinator_id=colleague.pk) is False
    assert signed_in(coordinator).get(f"{PAGE}{colleague.pk}/remove/").status_code == 404


def test_a_coordinator_of_another_circle_cannot_remove_coordinators_here(circle, coordinator):
    other = CoordinatorFactory(circle=CircleFactory(slug="lambeth")).user
    CoordinatorFactory(circle=circle)
    mine = CircleCoordinator.objects.get(circle=circle, user=coordinator)

    response = signed_in(other).post(f"{PAGE}{mine.pk}/remove/")

    assert response.status_code == 403
    with pytest.raises(PermissionDenied):
        coordinator_remove(circle=circle, actor=other, coordinator_id=mine.pk)
    assert CircleCoordinator.objects.filter(circle=circle).count() == 2


def test_a_coordinator_of_another_circle_cannot_be_removed_through_this_one(circle, coordinator):
    elsewhere = CoordinatorFactory(circle=CircleFactory(slug="lambeth"))
    CoordinatorFactory(circle=elsewhere.circle)

    response = signed_in(coordinator).post(f"{PAGE}{elsewhere.pk}/remove/")

    assert response.status_code == 404
    assert CircleCoordinator.objects.filter(pk=elsewhere.pk).exists()


# --- New circles -----------------------------------------------------------------------------

NEW = {
    "name": "Peckham  Circle", "slug": "peckham", "description": "Help at home in Peckham.", "area": "",
    "organisation": "", "annual_fee": "15", "minimum_age": "55", "coordinator_email": "carol@example.org",
}


def test_a_site_admin_starts_a_circle_with_its_first_coordinator(admin):
    # Given a site administrator, an area, an organisation and a future coordinator
    area = AreaFactory(name="Southwark borough")
    organisation = OrganisationFactory(name="Age Friendly Southwark", slug="age-friendly-southwark")
    carol = UserFactory(email="carol@example.org")
    client = signed_in(admin)
    assert "Start a new circle" in main_text(client.get("/circles/new/"))

    # When they fill in the form
    response = client.post("/circles/new/", {
        **NEW, "area": str(area.pk), "organisation": "https://example.org/directory/organisations/age-friendly-southwark/",
    })

    # Then the circle exists with its details, token accounts and coordinator, all audited
    circle = Circle.objects.get(slug="peckham")
    assert response["Location"] == "/circles/peckham/coordinate/settings/"
    assert (circle.name, circle.annual_fee_pence, circle.minimum_age) == ("Peckham Circle", 1500, 55)
    assert (circle.area, circle.organisation) == (area, organisation)
    assert list(circle.coordinators.values_list("user_id", flat=True)) == [carol.pk]
    assert set(Account.objects.filter(circle=circle).values_list("kind", flat=True)) == {
        AccountKind.ISSUANCE, AccountKind.SALES, AccountKind.HELP}
    assert AuditEvent.objects.filter(action__in=["circles.circle_create", "circles.coordinator_add"],
                                     actor_id=admin.pk).count() == 2
    assert mail.outbox[0].to == ["carol@example.org"]
    assert "Peckham Circle" in client.get("/circles/").content.decode()


def test_someone_who_is_not_a_site_admin_cannot_start_a_circle(coordinator):
    UserFactory(email="carol@example.org")
    client = signed_in(coordinator)

    assert client.get("/circles/new/").status_code == 403
    assert client.post("/circles/new/", NEW).status_code == 403
    with pytest.raises(PermissionDenied):
        circle_create(actor=coordinator, details=CircleNew(name="Peckham", slug="peckham"),
                      coordinator_email="carol@example.org")
    assert not Circle.objects.filter(slug="peckham").exists()


def test_signed_out_visitors_are_sent_to_sign_in():
    response = CommittingClient().get("/circles/new/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/sign-in/")


@pytest.mark.parametrize(("changes", "message"), [
    ({"slug": "Peckham Circle!"}, "Enter a short name of small letters, numbers and hyphens"),
    ({"slug": "southwark"}, "Another circle has this short name"),
    ({"slug": "new"}, "This short name is used by the website"),
    ({"coordinator_email": "nobody@example.org"}, "There is no account with this email address"),
    ({"organisation": "no-such-organisation"}, "There is no organisation with this address in the directory"),
    ({"minimum_age": "0"}, "Enter an age from 1 to 120"),
    ({"name": ""}, "Enter the circle's name"),
])
def test_mistakes_are_explained_and_nothing_is_lost(admin, circle, changes, message):
    UserFactory(email="carol@example.org")

    response = signed_in(admin).post("/circles/new/", {**NEW, **changes})

    page = main_text(response)
    assert response.status_code == 400
    assert "There is a problem" in page
    assert message in page
    assert "Help at home in Peckham." in page
    assert Circle.objects.count() == 1
