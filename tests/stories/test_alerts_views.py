"""The alert pages: a person sets up, changes, pauses and deletes their own alerts only."""

from __future__ import annotations

import pytest
from django.core import mail

from localsocial.core.models import AuditEvent
from localsocial.stories.models import AlertDelivery, AlertFrequency, AlertSubscription
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    ServiceFactory,
    StoryFactory,
    TagFactory,
    UserFactory,
)
from tests.helpers import CommittingClient, sign_in_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    trust = OrganisationFactory(name="Riverside NHS Trust", slug="riverside-trust")
    hospital = OrganisationFactory(name="Riverside Hospital", slug="riverside-hospital", parent=trust)
    ward = ServiceFactory(organisation=hospital, name="Children's ward", slug="childrens-ward")
    council = OrganisationFactory(name="Hilltown Council", slug="hilltown")
    bins = ServiceFactory(organisation=council, name="Bin collection", slug="bins")
    return {"trust": trust, "hospital": hospital, "ward": ward, "council": council, "bins": bins}


@pytest.fixture
def staff(tree):
    return MembershipFactory(organisation=tree["trust"], user=UserFactory(email="sam@trust.example")).user


@pytest.fixture
def staff_client(staff):
    return sign_in_verified(CommittingClient(), staff)


def alert_of(user, **fields):
    services = fields.pop("services", [])
    alert = AlertSubscription.objects.create(user=user, name=fields.pop("name", "Ward alert"), **fields)
    alert.services.set(services)
    return alert


def form_data(**overrides):
    data = {"name": "Everything at the trust", "organisation": "", "min_criticality": "0",
            "frequency": "immediate", "action": "save"}
    data.update(overrides)
    return data


def test_signing_in_is_needed_for_alerts(client):
    response = client.get("/stories/alerts/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/sign-in/")


def test_staff_see_only_their_own_alerts_with_what_each_is_about(tree, staff, staff_client):
    alert_of(staff, name="Ward alert", services=[tree["ward"]], min_criticality=4)
    alert_of(staff, name="Trust digest", organisation=tree["trust"], frequency="daily", is_active=False)
    alert_of(MembershipFactory(organisation=tree["trust"]).user, name="Someone else's alert")

    page = staff_client.get("/stories/alerts/").content.decode()

    assert "Ward alert" in page
    assert "Trust digest" in page
    assert "Someone else" not in page
    assert "Children&#39;s ward" in page
    assert "Riverside NHS Trust and everything in it" in page
    assert "Strongly critical or more" in page
    assert "A daily digest" in page
    assert "Paused" in page
    assert "Dashboard for Riverside NHS Trust" in page


def test_someone_who_works_for_no_organisation_is_told_alerts_are_for_staff(client):
    sign_in_verified(client, UserFactory())

    page = client.get("/stories/alerts/")
    new = client.get("/stories/alerts/new/")

    assert "Alerts are for people who work for an organisation" in page.content.decode()
    assert new.status_code == 403


def test_staff_set_up_an_alert_on_their_organisation_with_tags_and_a_threshold(tree, staff, staff_client):
    waiting = TagFactory(name="Waiting time", slug="waiting", polarity="improve")
    kind = TagFactory(name="Kind staff", slug="kind", polarity="good")
    form = staff_client.get("/stories/alerts/new/").content.decode()
    assert "Riverside NHS Trust" in form
    assert "Hilltown Council" not in form
    assert "Children&#39;s ward (Riverside Hospital)" in form
    assert "Bin collection" not in form

    response = staff_client.post("/stories/alerts/new/", form_data(
        organisation=str(tree["trust"].pk), tags_improve=[str(waiting.pk)], tags_good=[str(kind.pk)],
        min_criticality="3", frequency="daily",
    ))

    assert response.status_code == 302
    alert = AlertSubscription.objects.get(user=staff)
    assert alert.name == "Everything at the trust"
    assert alert.organisation == tree["trust"]
    assert set(alert.tags.all()) == {waiting, kind}
    assert alert.min_criticality == 3
    assert alert.frequency == AlertFrequency.DAILY
    assert AuditEvent.objects.filter(action="stories.alert_create", target_id=str(alert.pk)).exists()
    assert "is set up" in staff_client.get("/stories/alerts/").content.decode()


def test_staff_set_up_an_alert_on_a_service_only(tree, staff, staff_client):
    response = staff_client.post("/stories/alerts/new/", form_data(services=[str(tree["ward"].pk)]))

    assert response.status_code == 302
    alert = AlertSubscription.objects.get(user=staff)
    assert alert.organisation is None
    assert list(alert.services.all()) == [tree["ward"]]


def test_an_alert_about_nothing_is_refused(staff, staff_client):
    response = staff_client.post("/stories/alerts/new/", form_data())

    assert response.status_code == 200
    assert "Choose an organisation or at least one service" in response.content.decode()
    assert not AlertSubscription.objects.exists()


def test_nobody_can_subscribe_to_an_organisation_they_do_not_work_for(tree, staff, staff_client):
    response = staff_client.post("/stories/alerts/new/", form_data(organisation=str(tree["council"].pk)))

    page = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in page
    assert "Choose an organisation you work for" in page
    assert not AlertSubscription.objects.exists()


def test_nobody_can_subscribe_to_a_service_outside_their_organisations(tree, staff, staff_client):
    response = staff_client.post("/stories/alerts/new/", form_data(services=[str(tree["bins"].pk)]))

    assert "Choose services run by the organisations you work for" in response.content.decode()
    assert not AlertSubscription.objects.exists()


def test_finding_services_by_name_keeps_what_was_entered_and_saves_nothing(tree, staff, staff_client):
    for i in range(60):
        ServiceFactory(organisation=tree["hospital"], name=f"Clinic {i:02d}")
    ServiceFactory(organisation=tree["hospital"], name="Zebra crossing team", slug="zebra")

    before = staff_client.get("/stories/alerts/new/").content.decode()
    response = staff_client.post("/stories/alerts/new/", form_data(
        name="Kept name", services=[str(tree["ward"].pk)], service_query="zebra", action="find",
    ))

    page = response.content.decode()
    assert "Zebra crossing team" not in before  # beyond the first 50 listed
    assert "There are more services than can be listed here" in before
    assert "Zebra crossing team" in page
    assert "Clinic 00" not in page
    assert 'value="Kept name"' in page
    assert f'value="{tree["ward"].pk}" checked' in page  # the chosen one stays chosen
    assert "There is a problem" not in page
    assert not AlertSubscription.objects.exists()


def test_staff_change_their_alert(tree, staff, staff_client):
    alert = alert_of(staff, organisation=tree["trust"])
    page = staff_client.get(f"/stories/alerts/{alert.pk}/").content.decode()
    assert 'value="Ward alert"' in page

    response = staff_client.post(f"/stories/alerts/{alert.pk}/", form_data(
        name="Only serious ones", organisation=str(tree["trust"].pk), min_criticality="4",
    ))

    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.name == "Only serious ones"
    assert alert.min_criticality == 4
    assert AuditEvent.objects.filter(action="stories.alert_update").exists()


def test_a_daily_alert_switched_to_immediate_sends_what_was_waiting_at_once(tree, staff, staff_client):
    alert = alert_of(staff, organisation=tree["trust"], frequency="daily")
    story = StoryFactory(services=[tree["ward"]], title="Waiting in the digest")
    AlertDelivery.objects.create(subscription=alert, story=story)

    staff_client.post(f"/stories/alerts/{alert.pk}/", form_data(organisation=str(tree["trust"].pk)))

    assert [m.subject for m in mail.outbox] == ["1 new story for your alert “Ward alert”"]
    assert "Waiting in the digest" in mail.outbox[0].body
    assert not AlertDelivery.objects.filter(sent_at__isnull=True).exists()


def test_staff_pause_and_resume_their_alert(tree, staff, staff_client):
    alert = alert_of(staff, organisation=tree["trust"])

    staff_client.post(f"/stories/alerts/{alert.pk}/pause/")
    alert.refresh_from_db()
    assert alert.is_active is False
    assert "Turn on again" in staff_client.get("/stories/alerts/").content.decode()

    staff_client.post(f"/stories/alerts/{alert.pk}/resume/")
    alert.refresh_from_db()
    assert alert.is_active is True
    assert list(AuditEvent.objects.filter(target_id=str(alert.pk)).order_by("pk").values_list("action", flat=True)) \
        == ["stories.alert_pause", "stories.alert_resume"]


def test_staff_delete_their_alert_after_confirming(tree, staff, staff_client):
    alert = alert_of(staff, organisation=tree["trust"])

    confirm = staff_client.get(f"/stories/alerts/{alert.pk}/delete/")
    assert "Delete your alert “Ward alert”?" in confirm.content.decode()
    staff_client.post(f"/stories/alerts/{alert.pk}/delete/")

    assert not AlertSubscription.objects.exists()
    assert AuditEvent.objects.filter(action="stories.alert_delete").exists()


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("post", ""), ("get", "delete/"), ("post", "delete/"), ("post", "pause/"), ("post", "resume/")],
)
def test_another_persons_alert_is_not_found(tree, staff_client, method, suffix):
    other = alert_of(MembershipFactory(organisation=tree["trust"]).user, organisation=tree["trust"])

    response = getattr(staff_client, method)(f"/stories/alerts/{other.pk}/{suffix}", form_data(
        organisation=str(tree["trust"].pk)) if method == "post" else None)

    assert response.status_code == 404
    other.refresh_from_db()
    assert other.name == "Ward alert"
    assert other.is_active


def test_alert_pages_need_two_factor_for_staff(client, staff):
    client.force_login(staff)

    response = client.get("/stories/alerts/")

    assert response.status_code == 302
    assert "/two-factor/" in response["Location"]


@pytest.mark.parametrize("path", ["/stories/alerts/", "/stories/alerts/new/"])
def test_alert_pages_take_the_same_queries_for_few_or_many(tree, staff, staff_client, path,
                                                           django_assert_max_num_queries):
    tags = [TagFactory(polarity="good"), TagFactory(polarity="improve")]

    def make(count):
        AlertSubscription.objects.filter(user=staff).delete()
        for i in range(count):
            alert = alert_of(staff, name=f"Alert {i:03d}", organisation=tree["trust"])
            alert.services.set([ServiceFactory(organisation=tree["hospital"])])
            alert.tags.set(tags)

    make(10)
    with django_assert_max_num_queries(30) as few:
        assert staff_client.get(path).status_code == 200
    make(200)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert staff_client.get(path).status_code == 200


@pytest.mark.parametrize("path", ["/stories/alerts/", "/stories/alerts/new/",
                                  "/stories/organisations/riverside-trust/dashboard/"])
def test_the_pages_render_in_welsh(tree, staff, staff_client, path):
    alert_of(staff, organisation=tree["trust"])
    staff_client.post("/i18n/setlang/", {"language": "cy", "next": "/"})

    response = staff_client.get(path)

    assert response.status_code == 200
    assert '<html lang="cy"' in response.content.decode()
