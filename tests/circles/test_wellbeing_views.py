"""The wellbeing pages: a member's own page, the coordinators' page for a member, the circle's
trend (chart, table, CSV) and the list of members to ask."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import re

import pytest
from django.utils import timezone

from localsocial.circles.models import Member, WellbeingCheckIn
from localsocial.circles.selectors.wellbeing import quarter_start, wellbeing_trend
from localsocial.circles.services.wellbeing import Answers, wellbeing_checkin_record
from localsocial.core.models import AuditEvent
from tests.circles.factories import CircleFactory, CoordinatorFactory, MemberFactory
from tests.helpers import CommittingClient, sign_in_verified

pytestmark = pytest.mark.django_db

ANSWERS = {"lack_companionship": "1", "left_out": "2", "isolated": "3"}
# Answers for each score from 3 to 9.
BY_SCORE = {3: (1, 1, 1), 4: (2, 1, 1), 5: (2, 2, 1), 6: (2, 2, 2), 7: (3, 2, 2), 8: (3, 3, 2), 9: (3, 3, 3)}


@pytest.fixture
def circle():
    return CircleFactory(name="Southwark Circle", slug="southwark")


def member_client(member):
    client = CommittingClient()
    client.force_login(member.user)
    return client


def coordinator_client(circle):
    user = CoordinatorFactory(circle=circle).user
    return sign_in_verified(CommittingClient(), user), user


def checkin(member, score, day):
    return WellbeingCheckIn.objects.create(circle=member.circle, member=member, taken_on=day, score=score,
                                           **dict(zip(("lack_companionship", "left_out", "isolated"),
                                                      BY_SCORE[score], strict=True)))


# --- A member's own page -------------------------------------------------------------------------

def test_someone_not_signed_in_is_sent_to_sign_in(client, circle):
    response = client.get("/circles/southwark/wellbeing/")

    assert response.status_code == 302
    assert "/accounts/sign-in/" in response["Location"]


def test_someone_who_is_not_a_member_is_told_so(circle):
    other = MemberFactory(circle=CircleFactory())

    response = member_client(other).get("/circles/southwark/wellbeing/")

    assert response.status_code == 404
    assert "You are not a member of Southwark Circle" in response.content.decode()


def test_a_member_who_has_not_said_yes_is_told_it_is_optional_and_not_shown_the_questions(circle):
    member = MemberFactory(circle=circle)

    page = member_client(member).get("/circles/southwark/wellbeing/").content.decode()

    assert "It is up to you" in page
    assert "Would you like to be asked these questions now and then?" in page
    assert "How often do you feel left out?" not in page


def test_nothing_is_ticked_for_a_member_who_has_not_chosen_and_yes_is_ticked_once_they_have(circle):
    # Given a member who has never said yes (GOV.UK: radios are never chosen for the user)
    member = MemberFactory(circle=circle)
    client = member_client(member)

    # When they open the page, then neither answer is ticked
    page = client.get("/circles/southwark/wellbeing/").content.decode()
    assert not re.search(r'name="opt_in"[^>]*checked', page)

    # And once they said yes, their answer is shown ticked
    Member.objects.filter(pk=member.pk).update(wellbeing_opt_in=True)
    page = client.get("/circles/southwark/wellbeing/").content.decode()
    assert re.search(r'name="opt_in"[^>]*value="yes"[^>]*checked', page)


def test_a_member_says_yes_then_answers_and_sees_their_score(circle):
    member = MemberFactory(circle=circle)
    client = member_client(member)

    client.post("/circles/southwark/wellbeing/choice/", {"opt_in": "yes"})
    form_page = client.get("/circles/southwark/wellbeing/").content.decode()
    response = client.post("/circles/southwark/wellbeing/", ANSWERS, follow=True)

    assert "How often do you feel left out?" in form_page
    assert "How often do you feel isolated from others?" in form_page
    page = response.content.decode()
    assert "Thank you. Your answers are saved." in page
    assert '<td class="govuk-table__cell govuk-table__cell--numeric">6</td>' in page
    assert WellbeingCheckIn.objects.get(member=member).score == 6


def test_a_missing_answer_is_explained_and_the_other_answers_are_kept(circle):
    member = MemberFactory(circle=circle, wellbeing_opt_in=True)

    response = member_client(member).post("/circles/southwark/wellbeing/", {"lack_companionship": "3", "left_out": "2"})

    page = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in page
    assert "Choose how often you feel isolated from others" in page
    assert 'name="lack_companionship" type="radio" value="3" checked' in page
    assert not WellbeingCheckIn.objects.exists()


def test_a_form_sent_twice_keeps_one_answer(circle):
    member = MemberFactory(circle=circle, wellbeing_opt_in=True)
    client = member_client(member)

    client.post("/circles/southwark/wellbeing/", ANSWERS)
    response = client.post("/circles/southwark/wellbeing/", ANSWERS, follow=True)

    assert "These answers were already saved today." in response.content.decode()
    assert WellbeingCheckIn.objects.count() == 1


def test_a_member_says_no_and_is_no_longer_shown_the_questions(circle):
    member = MemberFactory(circle=circle, wellbeing_opt_in=True)
    client = member_client(member)

    response = client.post("/circles/southwark/wellbeing/choice/", {"opt_in": "no"}, follow=True)

    page = response.content.decode()
    assert "You will not be asked these questions" in page
    assert "How often do you feel left out?" not in page
    assert Member.objects.get(pk=member.pk).wellbeing_opt_in is False


def test_choosing_neither_yes_nor_no_is_explained(circle):
    member = MemberFactory(circle=circle)

    response = member_client(member).post("/circles/southwark/wellbeing/choice/", {})

    assert response.status_code == 400
    assert "Choose yes or no" in response.content.decode()
    assert Member.objects.get(pk=member.pk).wellbeing_opt_in is False


def test_a_member_never_sees_another_members_answers(circle):
    me = MemberFactory(circle=circle, wellbeing_opt_in=True)
    other = MemberFactory(circle=circle, wellbeing_opt_in=True, display_name="Someone Else")
    checkin(other, 9, timezone.localdate())
    client = member_client(me)

    own = client.get("/circles/southwark/wellbeing/").content.decode()
    theirs = client.get(f"/circles/southwark/coordinate/members/{other.pk}/wellbeing/")
    report = client.get("/circles/southwark/coordinate/wellbeing/")
    download = client.get("/circles/southwark/coordinate/wellbeing.csv")

    assert 'id="history"' not in own
    assert [theirs.status_code, report.status_code, download.status_code] == [403, 403, 403]


def test_the_members_page_makes_a_fixed_number_of_queries(circle, django_assert_max_num_queries):
    member = MemberFactory(circle=circle, wellbeing_opt_in=True)
    today = timezone.localdate()
    for days in range(0, 20 * 91, 91):
        checkin(member, 3 + days % 7, today - dt.timedelta(days=days))
    client = member_client(member)

    with django_assert_max_num_queries(8):  # sign-in and roles 5, the circle, the member, the answers
        response = client.get("/circles/southwark/wellbeing/")

    page = response.content.decode()
    assert page.count('<tr class="govuk-table__row">') == 21  # the heading and twenty answers
    assert 'src="data:image/svg+xml;base64,' in page


# --- Coordinators: one member --------------------------------------------------------------------

def test_a_coordinator_says_yes_for_a_member_only_with_their_agreement(circle):
    member = MemberFactory(circle=circle)
    client, coordinator = coordinator_client(circle)
    url = f"/circles/southwark/coordinate/members/{member.pk}/wellbeing/choice/"

    refused = client.post(url, {"opt_in": "yes"})
    agreed = client.post(url, {"opt_in": "yes", "consent": "on"}, follow=True)

    assert refused.status_code == 400
    assert "Confirm the member agreed to be asked these questions" in refused.content.decode()
    assert "will be asked these questions now and then" in agreed.content.decode()
    event = AuditEvent.objects.get(action="circles.wellbeing_opt_in")
    assert (event.actor, event.on_behalf_of) == (coordinator, member.user)


def test_the_audit_log_keeps_the_address_a_coordinators_choice_came_from(circle):
    # The view passes no request to the service: the address reaches the log through the
    # middleware's context variable (decision 0015).
    member = MemberFactory(circle=circle)
    client, _coordinator = coordinator_client(circle)

    client.post(f"/circles/southwark/coordinate/members/{member.pk}/wellbeing/choice/",
                {"opt_in": "yes", "consent": "on"}, REMOTE_ADDR="203.0.113.9")

    event = AuditEvent.objects.get(action="circles.wellbeing_opt_in")
    assert event.ip_address == "203.0.113.9"


def test_a_coordinator_records_answers_given_on_the_phone(circle):
    member = MemberFactory(circle=circle, wellbeing_opt_in=True, display_name="Ada Lovelace")
    client, coordinator = coordinator_client(circle)

    response = client.post(f"/circles/southwark/coordinate/members/{member.pk}/wellbeing/", ANSWERS, follow=True)

    page = response.content.decode()
    assert "Ada Lovelace&#39;s answers are saved." in page or "Ada Lovelace's answers are saved." in page
    assert "You are acting for Ada Lovelace" in page
    assert WellbeingCheckIn.objects.get(member=member).entered_by == coordinator


def test_a_coordinator_copies_a_paper_form_from_an_earlier_day_but_not_a_later_one(circle):
    member = MemberFactory(circle=circle, wellbeing_opt_in=True)
    client, _user = coordinator_client(circle)
    url = f"/circles/southwark/coordinate/members/{member.pk}/wellbeing/"
    earlier = timezone.localdate() - dt.timedelta(days=10)
    later = timezone.localdate() + dt.timedelta(days=1)

    refused = client.post(url, {**ANSWERS, "taken_on": later.isoformat()})
    client.post(url, {**ANSWERS, "taken_on": earlier.isoformat()})

    assert refused.status_code == 400
    assert "The date cannot be in the future" in refused.content.decode()
    assert list(WellbeingCheckIn.objects.values_list("taken_on", flat=True)) == [earlier]


def test_the_members_coordinator_page_links_to_their_check_ins(circle):
    member = MemberFactory(circle=circle)
    client, _user = coordinator_client(circle)

    page = client.get(f"/circles/southwark/coordinate/members/{member.pk}/").content.decode()

    assert f"/circles/southwark/coordinate/members/{member.pk}/wellbeing/" in page


def test_a_coordinator_of_another_circle_is_refused(circle):
    member = MemberFactory(circle=circle, wellbeing_opt_in=True)
    client, _user = coordinator_client(CircleFactory())

    assert client.get(f"/circles/southwark/coordinate/members/{member.pk}/wellbeing/").status_code == 403
    assert client.post(f"/circles/southwark/coordinate/members/{member.pk}/wellbeing/", ANSWERS).status_code == 403
    assert client.post(f"/circles/southwark/coordinate/members/{member.pk}/wellbeing/choice/",
                       {"opt_in": "no"}).status_code == 403
    assert client.get("/circles/southwark/coordinate/wellbeing/").status_code == 403
    assert client.get("/circles/southwark/coordinate/wellbeing/to-ask/").status_code == 403
    assert not WellbeingCheckIn.objects.exists()


def test_a_member_of_another_circle_is_not_found_on_this_circles_pages(circle):
    stranger = MemberFactory(circle=CircleFactory(), wellbeing_opt_in=True)
    client, _user = coordinator_client(circle)

    response = client.get(f"/circles/southwark/coordinate/members/{stranger.pk}/wellbeing/")

    assert response.status_code == 404


# --- The circle's trend --------------------------------------------------------------------------

def _known_data(circle, today):
    """Five members this quarter (scores 3, 4, 6, 7, 9); three of them also last quarter
    (9, 9, 6)."""
    last_quarter = quarter_start(today) - dt.timedelta(days=1)
    members = [MemberFactory(circle=circle) for _ in range(5)]
    for member, score in zip(members, [3, 4, 6, 7, 9], strict=True):
        checkin(member, score, today)
    for member, score in zip(members[:3], [9, 9, 6], strict=True):
        checkin(member, score, last_quarter)
    return members


def test_the_trend_counts_each_member_once_a_quarter_with_mean_share_and_paired_change(circle):
    today = dt.date(2026, 6, 15)
    _known_data(circle, today)
    again = MemberFactory(circle=circle)
    checkin(again, 9, dt.date(2026, 4, 2))
    checkin(again, 3, dt.date(2026, 6, 1))  # the same quarter: only this one counts

    trend = wellbeing_trend(circle=circle, today=today)

    now, before = trend.quarters[-1], trend.quarters[-2]
    assert (now.start, now.people, now.mean_score, now.lonely, now.lonely_percent) == (
        dt.date(2026, 4, 1), 6, 5.3, 3, 50)
    assert (before.start, before.people, before.mean_score, before.lonely) == (dt.date(2026, 1, 1), 3, 8.0, 3)
    assert len(trend.quarters) == 8
    assert trend.quarters[0].start == dt.date(2024, 7, 1)
    change = trend.change
    # 9→3, 9→4, 6→6 and (same quarter) 9→3.
    assert (change.people, change.better, change.same, change.worse, change.mean_change) == (4, 3, 1, 0, -4.2)
    assert trend.people == 6


def test_the_trend_page_shows_the_figures_a_chart_and_marks_small_groups(circle, django_assert_max_num_queries):
    _known_data(circle, timezone.localdate())
    client, _user = coordinator_client(circle)

    with django_assert_max_num_queries(10):
        response = client.get("/circles/southwark/coordinate/wellbeing/")

    page = response.content.decode()
    assert response.status_code == 200
    assert 'src="data:image/svg+xml;base64,' in page
    assert "5.8" in page
    assert "3 (60%)" in page
    assert "8.0" in page
    assert "Fewer than 5 people: read with care" in page
    assert "not a diagnosis" in page
    assert "-3.7" in page
    chart = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', page)
    assert chart is not None
    assert "<script" not in base64.b64decode(chart.group(1)).decode()


def test_the_csv_leaves_out_groups_of_fewer_than_five(circle):
    _known_data(circle, timezone.localdate())
    client, _user = coordinator_client(circle)

    response = client.get("/circles/southwark/coordinate/wellbeing.csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    by_period = {row[1]: row for row in rows[1:9]}
    this_quarter = quarter_start(timezone.localdate())
    last_quarter = quarter_start(this_quarter - dt.timedelta(days=1))
    assert by_period[this_quarter.isoformat()][2:5] == ["5", "5.8", "60"]
    assert by_period[last_quarter.isoformat()][2:6] == ["<5", "", "", "suppressed"]
    assert rows[-1] == ["all_time", "<5", "", "", "", "", "suppressed"]


def test_the_paired_change_is_in_the_csv_when_five_or_more_answered_twice(circle):
    today = timezone.localdate()
    for first, latest in [(9, 3), (8, 8), (6, 7), (5, 4), (9, 6)]:
        member = MemberFactory(circle=circle)
        checkin(member, first, today - dt.timedelta(days=200))
        checkin(member, latest, today)
    client, _user = coordinator_client(circle)

    rows = list(csv.reader(io.StringIO(client.get("/circles/southwark/coordinate/wellbeing.csv")
                                       .content.decode("utf-8-sig"))))

    assert rows[-1] == ["all_time", "5", "3", "1", "1", "-1.8", ""]


def test_an_empty_trend_page_says_nobody_has_answered_twice(circle):
    client, _user = coordinator_client(circle)

    page = client.get("/circles/southwark/coordinate/wellbeing/").content.decode()

    assert "Nobody has answered twice yet." in page
    assert "data:image/svg+xml" not in page


def test_members_to_ask_are_listed_with_how_to_ask_them(circle):
    phone = MemberFactory(circle=circle, wellbeing_opt_in=True, contact_preference="phone", display_name="Bea Phone",
                          phone="020 7946 0123")
    recent = MemberFactory(circle=circle, wellbeing_opt_in=True, display_name="Cyd Recent")
    wellbeing_checkin_record(member=recent, actor=recent.user, answers=Answers(1, 1, 1))
    MemberFactory(circle=circle, display_name="Dee Declined")
    client, _user = coordinator_client(circle)

    page = client.get("/circles/southwark/coordinate/wellbeing/to-ask/").content.decode()

    assert "Bea Phone" in page
    assert "020 7946 0123" in page
    assert f"/circles/southwark/coordinate/members/{phone.pk}/wellbeing/" in page
    assert "Cyd Recent" not in page
    assert "Dee Declined" not in page
