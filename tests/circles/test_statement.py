"""The statement page: who may see it, what it shows, and that it costs the same whatever the
account's history."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from localsocial.accounts.models import SiteRole
from localsocial.circles.models import Account
from localsocial.circles.selectors.ledger import (
    balance_as_time,
    quarters_as_time,
    statement_cursor_at,
)
from localsocial.circles.services.ledger import ledger_reverse, tokens_grant, tokens_pay_for_help
from tests.circles.factories import CoordinatorFactory, HelperFactory, MemberFactory
from tests.circles.test_ledger_helpers import World, ledger_world
from tests.factories import RoleGrantFactory, UserFactory
from tests.helpers import sign_in_verified

pytestmark = pytest.mark.django_db


def _url(account: Account) -> str:
    return reverse("circles:statement", kwargs={"account_id": account.pk})


def _client(user) -> Client:
    return sign_in_verified(Client(), user)


@pytest.fixture
def world() -> World:
    world = ledger_world(minimum_quarters=-8)
    tokens_grant(circle=world.circle, member=world.members[0], quarters=8, idempotency_key="welcome",
                 memo="Welcome tokens")
    tokens_pay_for_help(circle=world.circle, payer=world.accounts[0], payee=world.help, quarters=5,
                        idempotency_key="visit:1", memo="Shopping with Sam")
    return world


# --- Amounts in words -------------------------------------------------------------------------

@pytest.mark.parametrize(("quarters", "words"), [
    (1, "15 minutes"), (3, "45 minutes"), (4, "1 hour"), (5, "1 hour 15 minutes"), (-10, "2 hours 30 minutes"),
    (0, "0 minutes"),
])
def test_amounts_are_shown_in_hours_and_minutes(quarters, words):
    assert quarters_as_time(quarters) == words


def test_a_negative_balance_says_it_is_owed():
    assert balance_as_time(-6) == "1 hour 30 minutes owed"


# --- Who may see it ---------------------------------------------------------------------------

def test_a_member_sees_their_own_statement(world):
    response = _client(world.members[0].user).get(_url(world.accounts[0]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Your tokens" in page
    assert '<dd class="govuk-summary-list__value" id="balance">45 minutes</dd>' in page
    assert "Granted by the circle: Welcome tokens" in page
    assert "Help: Shopping with Sam" in page
    assert "1 hour 15 minutes" in page
    assert "2 hours" in page
    assert "Up to 2 hours below zero" in page


def test_another_member_is_told_the_statement_does_not_exist(world):
    response = _client(world.members[1].user).get(_url(world.accounts[0]))
    assert response.status_code == 404
    assert "Shopping with Sam" not in response.content.decode()


def test_a_missing_account_and_a_forbidden_one_look_the_same(world):
    client = _client(world.members[1].user)
    assert client.get(reverse("circles:statement", kwargs={"account_id": 999_999})).status_code == 404
    assert client.get(_url(world.accounts[0])).status_code == 404


def test_someone_signed_out_is_asked_to_sign_in(world):
    response = Client().get(_url(world.accounts[0]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:sign_in"))


def test_a_coordinator_of_the_circle_sees_any_members_statement(world):
    coordinator = CoordinatorFactory(circle=world.circle).user
    response = _client(coordinator).get(_url(world.accounts[0]))
    assert response.status_code == 200
    assert f"Tokens: {world.members[0].display_name}" in response.content.decode()


def test_a_coordinator_of_another_circle_does_not(world):
    coordinator = CoordinatorFactory().user
    assert _client(coordinator).get(_url(world.accounts[0])).status_code == 404


def test_a_site_administrator_sees_any_statement(world):
    admin = UserFactory()
    RoleGrantFactory(user=admin, role=SiteRole.SITE_ADMIN)
    assert _client(admin).get(_url(world.accounts[0])).status_code == 200


def test_a_helper_sees_the_tokens_they_earned(world):
    helper = HelperFactory(circle=world.circle, kind="member", member=world.members[1], user=world.members[1].user)
    from localsocial.circles.services.ledger import helper_account_ensure

    earned = helper_account_ensure(helper=helper)
    tokens_pay_for_help(circle=world.circle, payer=world.accounts[0], payee=earned, quarters=2, idempotency_key="v2")
    response = _client(world.members[1].user).get(_url(earned))
    assert response.status_code == 200
    assert '<dd class="govuk-summary-list__value" id="balance">30 minutes</dd>' in response.content.decode()


# --- What it shows ----------------------------------------------------------------------------

def test_a_correction_links_to_what_it_corrects_and_back(world):
    visit = world.accounts[0].entries.get(transfer__idempotency_key="visit:1")
    ledger_reverse(transfer=visit.transfer, idempotency_key="undo-visit")
    page = _client(world.members[0].user).get(_url(world.accounts[0])).content.decode()
    assert "Correction of an earlier entry" in page
    assert f"#entry-{visit.pk}" in page
    assert "Corrected later" in page
    assert '<dd class="govuk-summary-list__value" id="balance">2 hours</dd>' in page


def test_a_transfer_made_by_a_coordinator_for_the_member_says_so(world):
    coordinator = CoordinatorFactory(circle=world.circle, user=UserFactory(display_name="Priya")).user
    tokens_pay_for_help(circle=world.circle, payer=world.accounts[0], payee=world.help, quarters=1,
                        idempotency_key="visit:2", actor=coordinator, on_behalf_of=world.members[0].user)
    page = _client(world.members[0].user).get(_url(world.accounts[0])).content.decode()
    assert "Made by Priya for you" in page
    as_coordinator = _client(coordinator).get(_url(world.accounts[0])).content.decode()
    assert f"Made by Priya for {world.members[0].user.public_name}" in as_coordinator


def test_an_account_with_no_entries_says_so():
    world = ledger_world()
    page = _client(world.members[0].user).get(_url(world.accounts[0])).content.decode()
    assert "No tokens have moved in or out of this account yet." in page


def test_a_long_statement_is_paged_newest_first(world):
    for number in range(25):
        tokens_grant(circle=world.circle, member=world.members[0], quarters=1, idempotency_key=f"g{number}",
                     memo=f"Grant {number:02d}")
    client = _client(world.members[0].user)
    first = client.get(_url(world.accounts[0])).content.decode()
    assert first.index("Grant 24") < first.index("Grant 23") < first.index("Grant 05")
    assert "Grant 04" not in first
    assert "Welcome tokens" not in first
    next_href = first.split('class="govuk-pagination__next"')[1].split('href="')[1].split('"')[0].replace("&amp;", "&")
    second = client.get(next_href).content.decode()
    assert "Grant 04" in second
    assert "Welcome tokens" in second
    assert "Grant 05" not in second


def test_a_cursor_that_was_not_made_here_is_not_found(world):
    response = _client(world.members[0].user).get(_url(world.accounts[0]) + "?cursor=forged")
    assert response.status_code == 404


def _queries_for(client: Client, path: str) -> int:
    # Django empties its query log when a request starts: start counting from an empty log.
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured.captured_queries)


def test_the_page_costs_the_same_number_of_queries_whatever_the_history(world):
    client = _client(world.members[0].user)
    client.get(_url(world.accounts[0]))  # the session and language settle on the first request
    short = _queries_for(client, _url(world.accounts[0]))
    assert short <= 6
    for number in range(40):
        transfer = tokens_grant(circle=world.circle, member=world.members[0], quarters=1, idempotency_key=f"g{number}")
        if number % 5 == 0:
            ledger_reverse(transfer=transfer, idempotency_key=f"undo-{number}")
    assert _queries_for(client, _url(world.accounts[0])) == short
    assert _queries_for(client, _url(world.accounts[0]) + "?cursor=" + statement_cursor_at(10**9)) == short
    coordinator = CoordinatorFactory(circle=world.circle).user
    as_coordinator = _client(coordinator)
    as_coordinator.get(_url(world.accounts[0]))
    assert _queries_for(as_coordinator, _url(world.accounts[0])) == short + 1  # + is this a coordinator


# --- Your statement, and the download ---------------------------------------------------------

def test_your_statement_goes_straight_to_your_only_account(world):
    response = _client(world.members[0].user).get(reverse("circles:my_statement"))
    assert response.status_code == 302
    assert response["Location"] == _url(world.accounts[0])


def test_someone_in_several_circles_chooses_one(world):
    user = world.members[0].user
    elsewhere = ledger_world()
    other_member = MemberFactory(circle=elsewhere.circle, user=user)
    from localsocial.circles.services.ledger import member_account_ensure

    other = member_account_ensure(member=other_member)
    page = _client(user).get(reverse("circles:my_statement")).content.decode()
    assert f'href="{_url(world.accounts[0])}"' in page
    assert f'href="{_url(other)}"' in page
    assert world.circle.name in page
    assert elsewhere.circle.name in page


def test_someone_without_an_account_is_told_how_to_get_one():
    page = _client(UserFactory()).get(reverse("circles:my_statement")).content.decode()
    assert "You do not have a tokens account yet." in page


def test_the_statement_downloads_as_csv_for_its_owner_only(world):
    response = _client(world.members[0].user).get(reverse("circles:statement_csv", kwargs={"account_id": world.accounts[0].pk}))
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [(row["kind"], row["memo"], row["quarters"], row["hours"]) for row in rows] == [
        ("help", "Shopping with Sam", "-5", "-1.25"), ("grant", "Welcome tokens", "8", "2.00"),
    ]
    other = _client(world.members[1].user).get(reverse("circles:statement_csv", kwargs={"account_id": world.accounts[0].pk}))
    assert other.status_code == 404
