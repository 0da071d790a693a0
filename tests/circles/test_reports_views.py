"""The reports pages: what a coordinator sees (figures, charts with text, tables, the savings
estimate beside its assumptions), the period form and its errors, CSV per section, a fixed
number of queries, who may see them, and the savings proxies form."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone

from localsocial.accounts.models import SiteRole
from localsocial.circles.models import HelpCategory, SavingsBasis, SavingsProxy
from localsocial.circles.services.reports import savings_proxy_set
from tests.circles.factories import CircleFactory, CoordinatorFactory, MemberFactory
from tests.circles.test_help_support import coordinator_of
from tests.circles.test_reports import completed_visit, recently
from tests.factories import RoleGrantFactory, UserFactory
from tests.helpers import CommittingClient, sign_in_verified

pytestmark = pytest.mark.django_db

REPORTS = "/circles/southwark/coordinate/reports/"
CSV = "/circles/southwark/coordinate/reports/export.csv"
PROXIES = "/circles/southwark/coordinate/reports/savings/"


@pytest.fixture
def circle():
    return CircleFactory(name="Southwark Circle", slug="southwark")


def client_for(user):
    return sign_in_verified(CommittingClient(), user)


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def period(start: dt.date, end: dt.date) -> dict[str, str]:
    return {"from_day": str(start.day), "from_month": str(start.month), "from_year": str(start.year),
            "to_day": str(end.day), "to_month": str(end.month), "to_year": str(end.year)}


def _set_proxy(circle, category=HelpCategory.GARDEN, pence=2000, percent=50, source="Example value, not sourced"):  # type: ignore[no-untyped-def]
    return savings_proxy_set(circle=circle, actor=coordinator_of(circle), category=category,
                             basis=SavingsBasis.PER_HOUR, value_pence=pence, attribution_percent=percent,
                             source=source)[0]


# --- The page ------------------------------------------------------------------------------------

def test_a_coordinator_sees_each_section_with_its_figures_charts_and_tables(circle):
    coordinator = coordinator_of(circle)
    MemberFactory(circle=circle)
    _set_proxy(circle)
    completed_visit(circle, category=HelpCategory.GARDEN, minutes=90, completed_at=recently())

    response = client_for(coordinator).get(REPORTS)
    page = response.content.decode()

    assert response.status_code == 200
    assert "<h1 class=\"govuk-heading-l\">Reports</h1>" in page
    for heading in ("Members", "Helpers", "Help asked for and given", "Time from asking to a visit", "Tokens",
                    "Money received", "Estimated savings to public services"):
        assert f">{heading}</h2>" in page
    # a chart is an image with words, followed by its table
    assert 'src="data:image/svg+xml;base64,' in page
    assert "Bar chart of the hours of help given for each kind of help" in page
    # the savings figure sits beside its assumptions and a warning
    assert "This is an estimate, not a measurement" in page
    assert 'id="savings-total">£15</p>' in page  # 1.5 hours x £20 x 50%
    assert "£20 an hour" in page
    assert "Example value, not sourced" in page
    assert "50%" in page
    assert "How these figures are worked out" in page
    assert f"?section=savings&amp;from_day={timezone.localdate().replace(day=1).day}" in page


def test_the_page_links_to_wellbeing_and_the_savings_values(circle):
    page = client_for(coordinator_of(circle)).get(REPORTS).content.decode()

    assert 'href="/circles/southwark/coordinate/wellbeing/"' in page
    assert f'href="{PROXIES}"' in page


def test_a_chosen_period_is_shown_with_its_months(circle):
    page = client_for(coordinator_of(circle)).get(
        REPORTS, period(dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    ).content.decode()

    assert "from 1 January 2026 to 31 March 2026" in page
    assert "February 2026" in page
    assert "April 2026" not in page


@pytest.mark.parametrize(("data", "message"), [
    ({"from_day": "31", "from_month": "2", "from_year": "2026"}, "The start date must be a real date"),
    ({"from_day": "1", "from_year": "2026"}, "The start date must include a month"),
    ({**period(dt.date(2026, 3, 1), dt.date(2026, 1, 1))}, "The end date must be the same as or after the start date"),
    ({**period(dt.date(2000, 1, 1), dt.date(2026, 1, 1))}, "Choose a period of 10 years or less"),
    ({"from_day": "1", "from_month": "1", "from_year": "2999"}, "The start date must be today or earlier"),
])
def test_a_wrong_period_shows_an_error_summary_and_keeps_what_was_typed(circle, data, message):
    response = client_for(coordinator_of(circle)).get(REPORTS, data)
    page = response.content.decode()

    assert response.status_code == 400
    assert "There is a problem" in page
    assert message in page
    assert "<title>Error: " in page
    assert f'value="{data["from_year"]}"' in page


def test_the_page_costs_the_same_queries_for_1_or_20_members_and_visits(circle, django_assert_max_num_queries):
    coordinator = coordinator_of(circle)
    browser = client_for(coordinator)
    _set_proxy(circle)
    MemberFactory(circle=circle)
    completed_visit(circle, completed_at=recently())
    browser.get(REPORTS)  # warm the session
    with django_assert_max_num_queries(30) as small:
        assert browser.get(REPORTS).status_code == 200
    for number in range(19):
        MemberFactory(circle=circle)
        completed_visit(circle, category=list(HelpCategory)[number % 7], completed_at=recently())
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = browser.get(REPORTS).content.decode()
    assert 'id="savings-total">' in page


# --- CSV -----------------------------------------------------------------------------------------

def test_each_section_downloads_as_csv(circle):
    browser = client_for(coordinator_of(circle))
    _set_proxy(circle, source="=HYPERLINK(\"http://example.com\")")
    when = timezone.localtime(recently())
    completed_visit(circle, category=HelpCategory.GARDEN, minutes=90, completed_at=when)

    for section in ("members", "helpers", "help", "waits", "tokens", "money", "savings"):
        response = browser.get(CSV, {"section": section})
        assert response.status_code == 200, section
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert f"circle-southwark-{section}-" in response["Content-Disposition"]
        assert csv_rows(response)[0] == ["measure", "period", "category", "value"]

    rows = csv_rows(browser.get(CSV, {"section": "help"}))
    whole = rows[-1][1]
    assert whole.endswith(f"/{timezone.localdate().isoformat()}")
    assert ["hours_of_help", whole, "garden", "1.5"] in rows
    assert ["hours_of_help", f"{when:%Y-%m}", "", "1.5"] in rows
    assert ["visits_completed", f"{when:%Y-%m}", "", "1"] in rows
    savings = csv_rows(browser.get(CSV, {"section": "savings"}))
    assert ["savings_pounds", savings[-1][1], "garden", "15.00"] in savings
    # A source that looks like a formula is made harmless
    assert ["proxy_source", savings[-1][1], "garden", "'=HYPERLINK(\"http://example.com\")"] in savings


def test_an_unknown_section_is_not_found_and_a_wrong_period_is_refused(circle):
    browser = client_for(coordinator_of(circle))

    assert browser.get(CSV, {"section": "secrets"}).status_code == 404
    response = browser.get(CSV, {"section": "members", "from_day": "40", "from_month": "1", "from_year": "2026"})
    assert response.status_code == 400
    assert "The start date must be a real date" in response.content.decode()


# --- Who may see -------------------------------------------------------------------------------

def test_only_the_circles_coordinators_and_site_administrators_see_the_reports(circle, client):
    other_coordinator = CoordinatorFactory().user
    member = MemberFactory(circle=circle)
    admin = UserFactory()
    RoleGrantFactory(user=admin, role=SiteRole.SITE_ADMIN)

    assert client.get(REPORTS).status_code == 302  # sign in first
    for url in (REPORTS, f"{CSV}?section=members", PROXIES):
        assert client_for(other_coordinator).get(url).status_code == 403
        assert client_for(member.user).get(url).status_code == 403
        assert client_for(admin).get(url).status_code == 200
    assert client_for(other_coordinator).post(PROXIES, {
        "category": "garden", "basis": "hour", "value": "20", "attribution_percent": "50", "source": "x",
    }).status_code == 403
    assert not SavingsProxy.objects.exists()
    assert client_for(admin).get("/circles/nowhere/coordinate/reports/").status_code == 404


# --- Savings proxies ---------------------------------------------------------------------------

def test_a_coordinator_sets_changes_and_removes_a_value(circle):
    coordinator = coordinator_of(circle)
    browser = client_for(coordinator)
    data = {"category": "company", "basis": "hour", "value": "18.50", "attribution_percent": "60",
            "source": "Example value: our own estimate"}

    response = browser.post(PROXIES, data)
    browser.post(PROXIES, data)  # sent twice

    assert response.status_code == 302
    proxy = SavingsProxy.objects.get()
    assert (proxy.category, proxy.value_pence, proxy.attribution_percent, proxy.updated_by) == (
        "company", 1850, 60, coordinator)
    page = browser.get(PROXIES).content.decode()
    assert "The value for Company is saved." in page
    assert "£18.50 an hour" in page
    assert "Example value: our own estimate" in page
    change = browser.get(PROXIES, {"category": "company"}).content.decode()
    assert 'value="18.50"' in change
    browser.post(PROXIES, {**data, "value": "20"})
    assert SavingsProxy.objects.get().value_pence == 2000
    assert browser.post(f"{PROXIES}remove/", {"category": "company"}).status_code == 302
    assert browser.post(f"{PROXIES}remove/", {"category": "company"}).status_code == 302
    assert not SavingsProxy.objects.exists()


@pytest.mark.parametrize(("change", "message"), [
    ({"value": ""}, "Enter an amount in pounds"),
    ({"value": "0"}, "Enter a value more than £0"),
    ({"value": "ten"}, "Enter an amount in pounds"),
    ({"attribution_percent": "0"}, "Enter a share from 1 to 100 per cent"),
    ({"attribution_percent": "150"}, "Enter a share from 1 to 100 per cent"),
    ({"source": ""}, "Say where the figure comes from"),
    ({"category": "flying"}, "Choose the kind of help"),
    ({"basis": ""}, "Choose whether the value is for each hour or for each visit"),
])
def test_a_mistake_in_the_value_form_is_shown_and_nothing_typed_is_lost(circle, change, message):
    browser = client_for(coordinator_of(circle))
    data = {"category": "company", "basis": "hour", "value": "18.50", "attribution_percent": "60",
            "source": "Example value: our own estimate", **change}

    response = browser.post(PROXIES, data)
    page = response.content.decode()

    assert response.status_code == 400
    assert "There is a problem" in page
    assert message in page
    assert "<title>Error: " in page
    if change.get("source") is None:
        assert "Example value: our own estimate" in page
    assert not SavingsProxy.objects.exists()
