"""Moderating responses and authors' replies, organisation settings and templates, and the
query counts of the staff pages."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from localsocial.core.models import AuditEvent
from localsocial.directory.models import StaffRole
from localsocial.stories.models import (
    Progress,
    Response,
    ResponseStatus,
    ResponseTemplate,
    SignatureStyle,
    Story,
    StoryOrganisationSettings,
)
from localsocial.stories.services.responses import response_create, response_publish
from tests.factories import ResponseFactory, RoleGrantFactory, UserFactory
from tests.helpers import CommittingClient, sign_in_verified
from tests.stories.test_responses import responder_of, ward_story

pytestmark = pytest.mark.django_db

QUEUE = "stories:responses_moderation_queue"


def moderator_client(client=None):
    moderator = RoleGrantFactory().user
    return sign_in_verified(client or CommittingClient(), moderator), moderator


def waiting(given, *, change="", body="We are sorry about the night.", name="Sam Patel"):
    newcomer = responder_of(given.hospital, name=name)
    return response_create(
        story=given.story, actor=newcomer, organisation=given.hospital, body=body, change=change,
        change_description="New night rota." if change else "",
    )


# --- The queue ---------------------------------------------------------------------------------


def test_only_moderators_see_the_queue(client):
    given = ward_story()
    sign_in_verified(client, responder_of(given.hospital, trusted=True))

    assert client.get(reverse(QUEUE)).status_code == 403


def test_the_queue_lists_waiting_responses_oldest_first_with_why_each_is_held():
    given = ward_story()
    old = waiting(given, body="The oldest one.")
    Response.objects.filter(pk=old.pk).update(created_at=timezone.now() - timezone.timedelta(days=1))
    waiting(given, body="A claim.", change="planned", name="Ali Khan")
    Response.objects.create(
        story=given.story, is_author_reply=True, signature="Jo from Riverside (the author)", body="The author's reply."
    )
    ResponseFactory(story=given.story, organisation=given.hospital, body="Already published.")
    client, _moderator = moderator_client()

    html = client.get(reverse(QUEUE)).content.decode()

    assert html.index("The oldest one.") < html.index("A claim.") < html.index("The author&#39;s reply.")
    assert "Already published." not in html
    assert "New responder: 0 of 3 responses published so far" in html
    assert "Change claim: every response that describes a change is checked" in html
    assert "Author\u2019s reply: every reply from an author is checked" in html


def test_publishing_from_the_queue_moves_the_story_on_and_twice_is_harmless():
    given = ward_story()
    response = waiting(given)
    client, moderator = moderator_client()
    url = reverse("stories:response_publish", kwargs={"response_id": response.pk})

    first = client.post(url)
    second = client.post(url)

    assert first.status_code == second.status_code == 302
    response.refresh_from_db()
    assert response.status == ResponseStatus.PUBLISHED
    assert response.moderated_by == moderator
    story = Story.objects.get(pk=given.story.pk)
    assert story.progress == Progress.RESPONDED
    assert story.response_count == 1
    assert AuditEvent.objects.filter(action="stories.response_publish", target_id=str(response.pk)).count() == 1
    assert response_publish(response_id=response.pk, actor=moderator) is False


def test_rejecting_needs_a_reason_and_emails_it_to_the_writer():
    given = ward_story()
    response = waiting(given)
    client, _moderator = moderator_client()
    url = reverse("stories:response_reject", kwargs={"response_id": response.pk})

    empty = client.post(url, {"reason": " "})
    rejected = client.post(url, {"reason": "Please do not name members of staff."})

    assert "Enter the reason, which is sent to the writer" in empty.content.decode()
    assert rejected.status_code == 302
    response.refresh_from_db()
    assert response.status == ResponseStatus.REJECTED
    assert response.rejection_reason == "Please do not name members of staff."
    sent = [m for m in mail.outbox if m.subject == "Your response was not published"]
    assert len(sent) == 1
    assert sent[0].to == [response.responder.email]
    assert "Please do not name members of staff." in sent[0].body
    assert Story.objects.get(pk=given.story.pk).response_count == 0
    assert AuditEvent.objects.filter(action="stories.response_reject", target_id=str(response.pk)).exists()


def test_a_rejected_authors_reply_is_emailed_to_the_author():
    given = ward_story()
    reply = Response.objects.create(
        story=given.story, is_author_reply=True, signature="Jo from Riverside (the author)", body="Reply."
    )
    client, _moderator = moderator_client()

    client.post(reverse("stories:response_reject", kwargs={"response_id": reply.pk}), {"reason": "It names a nurse."})

    sent = [m for m in mail.outbox if m.subject == "Your reply was not published"]
    assert [m.to for m in sent] == [[given.story.author_email]]


def test_a_published_response_cannot_then_be_rejected():
    given = ward_story()
    response = waiting(given)
    client, moderator = moderator_client()
    response_publish(response_id=response.pk, actor=moderator)

    client.post(reverse("stories:response_reject", kwargs={"response_id": response.pk}), {"reason": "Late."})

    response.refresh_from_db()
    assert response.status == ResponseStatus.PUBLISHED


def test_non_moderators_cannot_publish(client):
    given = ward_story()
    response = waiting(given)
    sign_in_verified(client, responder_of(given.hospital, name="Ali Khan", trusted=True))

    assert client.post(reverse("stories:response_publish", kwargs={"response_id": response.pk})).status_code == 403
    response.refresh_from_db()
    assert response.status == ResponseStatus.PENDING


# --- Query counts ------------------------------------------------------------------------------


def _many(given, count):
    responders = [responder_of(given.hospital, name=f"Responder {n}") for n in range(3)]
    Response.objects.bulk_create([
        Response(
            story=given.story, organisation=given.hospital, responder=responders[n % 3],
            signature=f"Responder {n % 3}, Riverside Hospital", body=f"Response number {n}.",
            status=ResponseStatus.PENDING if n % 2 else ResponseStatus.PUBLISHED,
            published_at=None if n % 2 else timezone.now(),
            change="made" if n % 4 == 1 else "", change_description="A change." if n % 4 == 1 else "",
        )
        for n in range(count)
    ])


@pytest.mark.parametrize("count", [10, 200])
def test_the_queue_takes_the_same_queries_however_long(django_assert_max_num_queries, count):
    given = ward_story()
    _many(given, count)
    client, _moderator = moderator_client()
    client.get(reverse(QUEUE))  # warm the session and the user's roles

    with django_assert_max_num_queries(6):
        page = client.get(reverse(QUEUE))

    assert page.status_code == 200
    assert page.content.decode().count("Do not publish") >= min(count // 2, 50)


@pytest.mark.parametrize("count", [10, 200])
def test_the_respond_page_takes_the_same_queries_however_long_the_conversation(django_assert_max_num_queries, count):
    given = ward_story()
    _many(given, count)
    ResponseTemplate.objects.create(organisation=given.hospital, title="Thanks", body="Thank you {author_name}.")
    sam = responder_of(given.hospital, name="Sam Patel")
    client = sign_in_verified(CommittingClient(), sam)
    client.get(reverse("stories:respond", kwargs={"pk": given.story.pk}))

    with django_assert_max_num_queries(13):
        page = client.get(reverse("stories:respond", kwargs={"pk": given.story.pk}))

    assert page.status_code == 200
    assert page.content.decode().count('class="ls-response ') == (count + 1) // 2


# --- Organisation settings and templates -----------------------------------------------------------


def admin_of(org):
    return responder_of(org, name="Ada Admin", role=StaffRole.ADMINISTRATOR)


def test_an_administrator_sets_the_signature_style_and_it_is_used_and_audited():
    given = ward_story()
    admin = admin_of(given.trust)
    client = sign_in_verified(CommittingClient(), admin)
    url = reverse("stories:organisation_settings", kwargs={"slug": given.hospital.slug})

    page = client.get(url)
    posted = client.post(url, {"signature_style": SignatureStyle.TITLE_ONLY, "provider_notice_hours": "48"})

    assert "Ada Admin, Ward manager, Riverside Hospital" in page.content.decode()  # the examples
    assert posted.status_code == 302
    settings_row = StoryOrganisationSettings.objects.get(organisation=given.hospital)
    assert (settings_row.signature_style, settings_row.provider_notice_hours) == (SignatureStyle.TITLE_ONLY, 48)
    event = AuditEvent.objects.get(action="stories.organisation_settings_update")
    assert event.after == {"signature_style": "title", "provider_notice_hours": 48}
    sam = responder_of(given.hospital, trusted=True)
    assert response_create(story=given.story, actor=sam, organisation=given.hospital, body="Hi.").signature == (
        "Ward manager, Riverside Hospital"
    )


def test_settings_errors_are_shown(client):
    given = ward_story()
    sign_in_verified(client, admin_of(given.hospital))

    page = client.post(
        reverse("stories:organisation_settings", kwargs={"slug": given.hospital.slug}),
        {"signature_style": "", "provider_notice_hours": "0"},
    )

    html = page.content.decode()
    assert "Choose how responses are signed" in html
    assert "The notice window must be between 1 and 720 hours" in html
    assert not StoryOrganisationSettings.objects.exists()


@pytest.mark.parametrize("role", [StaffRole.RESPONDER, StaffRole.MEMBER])
def test_staff_who_are_not_administrators_cannot_change_settings_or_templates(client, role):
    given = ward_story()
    sign_in_verified(client, responder_of(given.hospital, role=role))

    for name in ("stories:organisation_settings", "stories:response_templates", "stories:response_template_add"):
        assert client.get(reverse(name, kwargs={"slug": given.hospital.slug})).status_code == 403
    assert client.post(
        reverse("stories:response_template_add", kwargs={"slug": given.hospital.slug}), {"title": "X", "body": "Y"}
    ).status_code == 403
    assert not ResponseTemplate.objects.exists()


def test_an_administrator_of_another_organisation_cannot_manage_these(client):
    given = ward_story()
    other = ward_story()
    sign_in_verified(client, admin_of(other.trust))

    assert client.get(reverse("stories:response_templates", kwargs={"slug": given.hospital.slug})).status_code == 403


def test_templates_are_added_changed_and_deleted_with_an_audit_trail():
    given = ward_story()
    client = sign_in_verified(CommittingClient(), admin_of(given.hospital))
    slug = given.hospital.slug

    client.post(reverse("stories:response_template_add", kwargs={"slug": slug}),
                {"title": "Thank you", "body": "Dear {author_name}, thank you."})
    template = ResponseTemplate.objects.get(organisation=given.hospital)
    listed = client.get(reverse("stories:response_templates", kwargs={"slug": slug})).content.decode()
    client.post(reverse("stories:response_template_edit", kwargs={"slug": slug, "template_id": template.pk}),
                {"title": "Thank you", "body": "Dear {author_name}, thank you for telling us."})
    template.refresh_from_db()
    edited_body = template.body
    client.post(reverse("stories:response_template_delete", kwargs={"slug": slug, "template_id": template.pk}))

    assert "Thank you" in listed
    assert edited_body == "Dear {author_name}, thank you for telling us."
    assert not ResponseTemplate.objects.exists()
    actions = list(AuditEvent.objects.filter(action__startswith="stories.response_template").values_list("action", flat=True))
    assert sorted(actions) == sorted([
        "stories.response_template_create", "stories.response_template_update", "stories.response_template_delete",
    ])


def test_a_template_name_is_unique_within_an_organisation(client):
    given = ward_story()
    ResponseTemplate.objects.create(organisation=given.hospital, title="Thank you", body="Thanks.")
    sign_in_verified(client, admin_of(given.hospital))

    page = client.post(reverse("stories:response_template_add", kwargs={"slug": given.hospital.slug}),
                       {"title": "Thank you", "body": "Again."})

    assert "There is already a template with this name" in page.content.decode()
    assert ResponseTemplate.objects.count() == 1


def test_another_organisations_template_is_not_found_under_this_one(client):
    given = ward_story()
    other = ward_story()
    theirs = ResponseTemplate.objects.create(organisation=other.hospital, title="Theirs", body="Theirs.")
    sign_in_verified(client, admin_of(given.hospital))

    page = client.post(
        reverse("stories:response_template_delete", kwargs={"slug": given.hospital.slug, "template_id": theirs.pk})
    )

    assert page.status_code == 404
    assert ResponseTemplate.objects.filter(pk=theirs.pk).exists()


def test_a_site_admin_may_manage_any_organisations_settings(client):
    from localsocial.accounts.models import SiteRole

    given = ward_story()
    admin = UserFactory()
    RoleGrantFactory(user=admin, role=SiteRole.SITE_ADMIN)
    sign_in_verified(client, admin)

    assert client.get(reverse("stories:organisation_settings", kwargs={"slug": given.ward.slug})).status_code == 200
