"""The organisation dashboard: its figures against numbers worked out by hand, its date
range, who may see it, its CSV, its charts and its fixed cost."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import re

import pytest
from django.urls import get_resolver
from freezegun import freeze_time

from localsocial.accounts.models import SiteRole
from localsocial.stories.selectors.dashboard import dashboard_for_organisation
from localsocial.stories.services.responses import response_rate
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    ResponseFactory,
    RoleGrantFactory,
    ServiceFactory,
    StoryFactory,
    TagFactory,
    UserFactory,
)
from tests.helpers import sign_in_verified

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    # Load every page's module first: the API's schemas must see the real datetime class.
    get_resolver().url_patterns  # noqa: B018
    with freeze_time("2026-11-27 12:00:00"):
        yield

HOUR = dt.timedelta(hours=1)


def at(text: str) -> dt.datetime:
    """A UTC moment: "2026-01-10 10:00"."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.fixture
def tree():
    trust = OrganisationFactory(name="Riverside NHS Trust", slug="riverside-trust")
    hospital = OrganisationFactory(name="Riverside Hospital", slug="riverside-hospital", parent=trust)
    council = OrganisationFactory(name="Hilltown Council", slug="hilltown")
    return {
        "trust": trust, "hospital": hospital, "council": council,
        "ward": ServiceFactory(organisation=hospital, name="Children's ward"),
        "clinic": ServiceFactory(organisation=hospital, name="Eye clinic"),
        "trust_office": ServiceFactory(organisation=trust, name="Patient advice"),
        "bins": ServiceFactory(organisation=council, name="Bin collection"),
    }


def story(services, published, *, wait_hours=None, **fields):
    published_at = at(published)
    if wait_hours is not None:
        fields["first_response_at"] = published_at + wait_hours * HOUR
    return StoryFactory(services=services, published_at=published_at, **fields)


@pytest.fixture
def stories(tree):
    """Eight stories about the trust's subtree in the default period (December 2025 to
    November 2026) and three that must not count."""
    kind = TagFactory(name="Kind staff", slug="kind", polarity="good")
    clean = TagFactory(name="Clean wards", slug="clean", polarity="good")
    waiting = TagFactory(name="Waiting time", slug="waiting", polarity="improve")
    ward, clinic = tree["ward"], tree["clinic"]
    s1 = story([ward], "2026-01-10 10:00", wait_hours=1, criticality=1, tags=[kind, clean],
               change_planned_at=at("2026-01-12 09:00"))
    # About two services of the subtree: counted once.
    story([ward, clinic], "2026-01-20 10:00", wait_hours=2, criticality=3, tags=[waiting])
    story([clinic], "2026-02-05 10:00", wait_hours=3, criticality=3, tags=[waiting, kind],
          changed_at=at("2026-03-01 09:00"))
    story([tree["trust_office"]], "2026-03-15 10:00", wait_hours=4, criticality=5)
    story([ward], "2026-03-16 10:00", wait_hours=10, criticality=0)
    story([ward], "2026-03-17 10:00", criticality=0)
    story([ward], "2026-11-20 10:00", criticality=2)
    story([clinic], "2026-11-26 10:00", criticality=None)
    # Not counted: another organisation's, withdrawn, and before the period.
    other = story([tree["bins"]], "2026-02-01 10:00", wait_hours=1, criticality=5, tags=[waiting])
    StoryFactory(services=[ward], status="withdrawn")
    story([ward], "2025-11-30 10:00", wait_hours=1)
    return {"s1": s1, "other": other}


def rate(response, helpful: int, not_helpful: int) -> None:
    # Through the service, which keeps each response's counts with its ratings.
    for i in range(helpful + not_helpful):
        response_rate(response_id=response.pk, person_key=f"{response.pk}-{i}", helpful=i < helpful)


def dashboard(org, start="2025-12-01", end="2026-11-27"):
    return dashboard_for_organisation(
        organisation=org, start=dt.date.fromisoformat(start), end=dt.date.fromisoformat(end)
    )


# --- The figures ------------------------------------------------------------------------------

def test_stories_per_month_count_each_story_of_the_subtree_once(tree, stories):
    data = dashboard(tree["trust"])

    assert [(f"{m.month:%Y-%m}", m.stories) for m in data.months if m.stories] == [
        ("2026-01", 2), ("2026-02", 1), ("2026-03", 3), ("2026-11", 2),
    ]
    assert len(data.months) == 12  # December 2025 to November 2026, empty months included
    assert data.stories == 8


def test_percent_responded_and_the_response_times(tree, stories):
    data = dashboard(tree["trust"])

    assert (data.responded, data.stories) == (5, 8)
    assert data.percent_responded == 62.5
    # Waits of 1, 2, 3, 4 and 10 hours: the middle one, and 4 + 0.6 x (10 - 4) hours.
    assert data.median_seconds == pytest.approx(3 * 3600)
    assert data.p90_seconds == pytest.approx(7.6 * 3600)


def test_response_times_of_an_even_number_of_stories_interpolate(tree):
    for hours in (4, 1, 3, 2):
        story([tree["ward"]], "2026-05-01 10:00", wait_hours=hours)

    data = dashboard(tree["hospital"])

    assert data.median_seconds == pytest.approx(2.5 * 3600)  # mean of 2
    assert 3
    assert data.p90_seconds == pytest.approx(3.7 * 3600)  # 3 + 0.7 x (4 - 3)


def test_one_answered_story_is_its_own_median_and_90th_percentile(tree):
    story([tree["ward"]], "2026-05-01 10:00", wait_hours=5)
    story([tree["ward"]], "2026-05-02 10:00")

    data = dashboard(tree["hospital"])

    assert data.median_seconds == pytest.approx(5 * 3600)
    assert data.p90_seconds == pytest.approx(5 * 3600)


def test_criticality_tags_and_changes(tree, stories):
    data = dashboard(tree["trust"])

    assert [(row.value, row.count) for row in data.criticality] == [
        (0, 2), (1, 1), (2, 1), (3, 2), (4, 0), (5, 1), (None, 1),
    ]
    assert [(row.label, row.count) for row in data.good_tags] == [("Kind staff", 2), ("Clean wards", 1)]
    assert [(row.label, row.count) for row in data.improve_tags] == [("Waiting time", 2)]
    assert (data.change_planned, data.changed) == (1, 1)


def test_only_the_ten_commonest_tags_of_each_kind_are_listed(tree):
    tags = [TagFactory(name=f"Good {i:02d}", slug=f"good-{i}", polarity="good") for i in range(12)]
    for i, tag in enumerate(tags):
        for _ in range(1 + i % 3):
            story([tree["ward"]], "2026-05-01 10:00", tags=[tag])

    data = dashboard(tree["hospital"])

    assert len(data.good_tags) == 10
    assert [row.count for row in data.good_tags] == [3, 3, 3, 3, 2, 2, 2, 2, 1, 1]
    assert [row.label for row in data.good_tags[:4]] == ["Good 02", "Good 05", "Good 08", "Good 11"]


def test_helpful_share_counts_ratings_of_the_subtrees_responses_in_the_period(tree, stories):
    s1, other = stories["s1"], stories["other"]
    rate(ResponseFactory(story=s1, organisation=tree["hospital"], published_at=at("2026-01-10 11:00")), 3, 1)
    rate(ResponseFactory(story=other, organisation=tree["council"], published_at=at("2026-02-01 11:00")), 0, 2)
    rate(ResponseFactory(story=s1, organisation=tree["hospital"], published_at=at("2025-11-01 11:00")), 0, 5)
    # A response waiting for moderation cannot be rated; counts on one are still never counted.
    ResponseFactory(story=s1, organisation=tree["hospital"], published_at=None, status="pending", not_helpful_count=5)

    data = dashboard(tree["trust"])

    assert (data.helpful_ratings, data.all_ratings) == (3, 4)
    assert data.percent_helpful == 75.0


def test_an_organisation_without_stories_has_no_percentages_rather_than_an_error(tree):
    data = dashboard(tree["council"])

    assert data.stories == 0
    assert data.percent_responded is None
    assert data.median_seconds is None
    assert data.p90_seconds is None
    assert data.percent_helpful is None


def test_months_are_counted_in_uk_time(tree):
    # 23:30 UTC on 31 March 2026 is 00:30 on 1 April in London (summer time).
    story([tree["ward"]], "2026-03-31 23:30")

    data = dashboard(tree["hospital"], "2026-03-01", "2026-04-30")

    assert [(f"{m.month:%Y-%m}", m.stories) for m in data.months] == [("2026-03", 0), ("2026-04", 1)]


def test_a_period_counts_only_stories_published_within_it_both_days_included(tree, stories):
    data = dashboard(tree["trust"], "2026-01-20", "2026-03-16")

    assert data.stories == 4  # 20 January, 5 February, 15 and 16 March
    assert [f"{m.month:%Y-%m}" for m in data.months] == ["2026-01", "2026-02", "2026-03"]


# --- The page ---------------------------------------------------------------------------------

@pytest.fixture
def staff_client(client, tree):
    return sign_in_verified(client, MembershipFactory(organisation=tree["trust"], role="member").user)


def test_the_page_shows_the_figures_in_plain_words(tree, stories, staff_client):
    response = staff_client.get("/stories/organisations/riverside-trust/dashboard/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "1 December 2025 to 27 November 2026" in page
    assert "62.5% (5 of 8)" in page
    assert "3 hours" in page
    assert "7 hours and 36 minutes" in page
    assert "January 2026" in page
    assert "Kind staff" in page
    assert "Waiting time" in page
    assert "No ratings yet" in page
    assert "These figures were worked out at 12:00 on 27 November 2026" in page


def test_the_figures_are_kept_for_a_few_minutes(tree, stories, staff_client, django_assert_max_num_queries):
    url = "/stories/organisations/riverside-trust/dashboard/"
    assert "62.5% (5 of 8)" in staff_client.get(url).content.decode()
    story([tree["ward"]], "2026-11-27 09:00")

    with django_assert_max_num_queries(12) as cached:
        again = staff_client.get(url).content.decode()
    with freeze_time("2026-11-27 12:06:00"):
        later = staff_client.get(url).content.decode()

    assert "62.5% (5 of 8)" in again
    assert not any("stories_storylisting" in q["sql"] for q in cached.captured_queries)
    assert "55.6% (5 of 9)" in later


def test_the_page_says_no_stories_yet_for_an_empty_period(tree, staff_client):
    response = staff_client.get("/stories/organisations/riverside-trust/dashboard/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "No stories yet" in page
    assert "No responses yet" in page
    assert "<img" not in page


def test_the_date_range_filters_the_figures(tree, stories, staff_client):
    response = staff_client.get("/stories/organisations/riverside-trust/dashboard/?from=2026-03-01&to=2026-03-31")

    page = response.content.decode()
    assert "1 March 2026 to 31 March 2026" in page
    assert "66.7% (2 of 3)" in page  # 15 and 16 March answered, 17 March not
    assert "January 2026" not in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-02-30", "Enter the start date as a real date"),
        ("to=yesterday", "Enter the end date as a real date"),
        ("from=2026-05-01&to=2026-04-01", "The end date must be the same as or after the start date"),
        ("from=2027-01-01", "The start date must be today or earlier"),
    ],
)
def test_an_invalid_date_is_explained_and_shows_no_figures(tree, stories, staff_client, query, message):
    response = staff_client.get(f"/stories/organisations/riverside-trust/dashboard/?{query}")

    page = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in page
    assert message in page
    assert "Key figures" not in page
    assert staff_client.get(f"/stories/organisations/riverside-trust/dashboard.csv?{query}").status_code == 400


def test_the_charts_are_svg_images_with_a_text_alternative_and_the_tables_figures(tree, stories, staff_client):
    page = staff_client.get("/stories/organisations/riverside-trust/dashboard/").content.decode()

    images = re.findall(r'<img class="govuk-!-width-full" src="data:image/svg\+xml;base64,([^"]+)" alt="([^"]+)">', page)
    assert len(images) == 4  # per month, criticality, good tags, tags to improve
    alts = [alt for _svg, alt in images]
    assert "Bar chart of the stories published each month. The same figures are in the table below." in alts
    month_svg = base64.b64decode(images[0][0]).decode()
    assert "<title>Stories published each month</title>" in month_svg
    assert ">Jan 2026<" in month_svg
    assert ">3<" in month_svg
    assert "<script" not in month_svg


# --- Who may see it -----------------------------------------------------------------------------

def test_signing_in_is_needed(client, tree):
    response = client.get("/stories/organisations/riverside-trust/dashboard/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/sign-in/")


@pytest.mark.parametrize("path", ["dashboard/", "dashboard.csv"])
def test_staff_of_another_organisation_are_refused(client, tree, path):
    sign_in_verified(client, MembershipFactory(organisation=tree["council"]).user)

    assert client.get(f"/stories/organisations/riverside-trust/{path}").status_code == 403


def test_staff_of_a_part_may_not_see_the_whole_but_staff_of_the_whole_may_see_a_part(client, tree):
    hospital_staff = MembershipFactory(organisation=tree["hospital"]).user
    trust_staff = MembershipFactory(organisation=tree["trust"]).user

    sign_in_verified(client, hospital_staff)
    assert client.get("/stories/organisations/riverside-trust/dashboard/").status_code == 403
    sign_in_verified(client, trust_staff)
    assert client.get("/stories/organisations/riverside-hospital/dashboard/").status_code == 200


def test_moderators_may_see_any_dashboard(client, tree):
    sign_in_verified(client, RoleGrantFactory(role=SiteRole.MODERATOR).user)

    assert client.get("/stories/organisations/hilltown/dashboard/").status_code == 200


def test_a_member_of_the_public_is_refused(client, tree):
    sign_in_verified(client, UserFactory())

    assert client.get("/stories/organisations/riverside-trust/dashboard/").status_code == 403


# --- CSV ------------------------------------------------------------------------------------------

def test_the_csv_holds_the_same_figures_as_one_tidy_table(tree, stories, staff_client):
    rate(ResponseFactory(story=stories["s1"], organisation=tree["hospital"], published_at=at("2026-01-10 11:00")), 3, 1)

    response = staff_client.get("/stories/organisations/riverside-trust/dashboard.csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="stories-dashboard-riverside-trust-2025-12-01-to-2026-11-27.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["measure", "period", "category", "value"]
    whole = "2025-12-01/2026-11-27"
    assert ["stories", "2026-03", "", "3"] in rows
    assert ["stories", "2025-12", "", "0"] in rows
    assert ["responded", "2026-01", "", "2"] in rows
    assert ["stories", whole, "", "8"] in rows
    assert ["percent_responded", whole, "", "62.5"] in rows
    assert ["median_hours_to_first_response", whole, "", "3.00"] in rows
    assert ["p90_hours_to_first_response", whole, "", "7.60"] in rows
    assert ["criticality", whole, "3", "2"] in rows
    assert ["criticality", whole, "not rated", "1"] in rows
    assert ["tag_good", whole, "Kind staff", "2"] in rows
    assert ["tag_improve", whole, "Waiting time", "2"] in rows
    assert ["change_planned", whole, "", "1"] in rows
    assert ["change_made", whole, "", "1"] in rows
    assert ["percent_helpful", whole, "", "75.0"] in rows


def test_the_csv_protects_spreadsheets_from_formulas_in_tag_names(tree, staff_client):
    story([tree["ward"]], "2026-05-01 10:00", tags=[TagFactory(name="=HYPERLINK(1)", slug="sneaky")])

    rows = list(csv.reader(io.StringIO(
        staff_client.get("/stories/organisations/riverside-trust/dashboard.csv").content.decode()
    )))

    assert ["tag_good", "2025-12-01/2026-11-27", "'=HYPERLINK(1)", "1"] in rows
