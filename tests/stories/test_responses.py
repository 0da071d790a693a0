"""Responding to stories: who may respond, how responses are signed and moderated, templates,
and the edit window.  (Helpers here are shared by the other test_responses_* modules.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from localsocial.core.models import AuditEvent
from localsocial.directory.models import OrganisationType, StaffRole
from localsocial.stories.models import (
    Progress,
    Response,
    ResponseStatus,
    ResponseTemplate,
    SignatureStyle,
    Story,
    StoryOrganisationSettings,
)
from localsocial.stories.services.responses import response_create, response_edit
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    ResponseFactory,
    ServiceFactory,
    StoryFactory,
    UserFactory,
)
from tests.helpers import CommittingClient, sign_in_verified

pytestmark = pytest.mark.django_db


@dataclass
class Ward:
    trust: object
    hospital: object
    ward: object
    service: object
    story: Story


def ward_story(**story_kwargs) -> Ward:
    """A published story about a ward's service, in Riverside Hospital, in Riverside NHS Trust."""
    trust = OrganisationFactory(name="Riverside NHS Trust", org_type=OrganisationType.NHS_TRUST)
    hospital = OrganisationFactory(name="Riverside Hospital", parent=trust, org_type=OrganisationType.HOSPITAL)
    ward = OrganisationFactory(name="Willow Ward", parent=hospital, org_type=OrganisationType.DEPARTMENT)
    service = ServiceFactory(organisation=ward, name="Willow Ward inpatient care")
    story = StoryFactory(services=[service], title="The night on Willow Ward", pseudonym="Jo from Riverside", **story_kwargs)
    return Ward(trust=trust, hospital=hospital, ward=ward, service=service, story=story)


def responder_of(org, *, name="Sam Patel", job_title="Ward manager", trusted=False, role=StaffRole.RESPONDER):
    """A responder of ``org``; ``trusted`` gives them enough published responses elsewhere."""
    user = UserFactory(display_name=name)
    MembershipFactory(user=user, organisation=org, role=role, job_title=job_title)
    if trusted:
        for _ in range(3):
            other = StoryFactory(services=[ServiceFactory(organisation=org)])
            ResponseFactory(story=other, organisation=org, responder=user)
    return user


def respond_url(story) -> str:
    return reverse("stories:respond", kwargs={"pk": story.pk})


def post_response(client, story, organisation, body="Thank you. We are sorry about the night.", **extra):
    data = {"organisation": organisation.pk, "body": body, "change": "", **extra}
    return client.post(respond_url(story), data)


# --- Who may respond --------------------------------------------------------------------------


def test_staff_of_another_organisation_cannot_respond_and_nothing_is_stored(client):
    given = ward_story()
    other_trust = OrganisationFactory(name="Hillside NHS Trust")
    outsider = responder_of(other_trust, trusted=True)
    sign_in_verified(client, outsider)
    before = Response.objects.count()

    page = client.get(respond_url(given.story))
    posted = post_response(client, given.story, other_trust)

    assert page.status_code == 403
    assert posted.status_code == 403
    assert Response.objects.count() == before
    with pytest.raises(PermissionDenied):
        response_create(story=given.story, actor=outsider, organisation=other_trust, body="Hello")
    with pytest.raises(PermissionDenied):  # naming an organisation the story is about does not help
        response_create(story=given.story, actor=outsider, organisation=given.hospital, body="Hello")


def test_a_member_without_the_responder_role_cannot_respond(client):
    given = ward_story()
    member = responder_of(given.hospital, role=StaffRole.MEMBER)
    sign_in_verified(client, member)

    assert client.get(respond_url(given.story)).status_code == 403


def test_a_trusts_responder_can_respond_to_a_story_about_its_hospitals_ward(client):
    given = ward_story()
    sam = responder_of(given.trust, trusted=True)
    sign_in_verified(client, sam)

    page = client.get(respond_url(given.story))
    posted = post_response(client, given.story, given.trust, body="We have shared your story with the ward team.")

    assert page.status_code == 200
    assert "The night on Willow Ward" in page.content.decode()
    assert posted.status_code == 302
    response = Response.objects.get(story=given.story)
    assert response.organisation == given.trust
    assert response.status == ResponseStatus.PUBLISHED
    assert response.body == "We have shared your story with the ward team."


def test_a_responder_cannot_respond_for_an_organisation_below_their_own():
    # A role covers the subtree for *seeing* stories, but a response speaks for the organisation
    # the responder belongs to.
    given = ward_story()
    sam = responder_of(given.trust, trusted=True)

    with pytest.raises(PermissionDenied):
        response_create(story=given.story, actor=sam, organisation=given.ward, body="Hello")


def test_an_unpublished_story_cannot_be_answered(client):
    given = ward_story(status="pending")
    sam = responder_of(given.hospital, trusted=True)
    sign_in_verified(client, sam)

    assert client.get(respond_url(given.story)).status_code == 404
    with pytest.raises(PermissionDenied):
        response_create(story=given.story, actor=sam, organisation=given.hospital, body="Hello")


def test_signed_out_visitors_are_sent_to_sign_in(client):
    given = ward_story()
    page = client.get(respond_url(given.story))
    assert page.status_code == 302
    assert reverse("accounts:sign_in") in page["Location"]


def test_several_organisations_may_respond_to_one_story():
    given = ward_story()
    trust_responder = responder_of(given.trust, trusted=True)
    ward_responder = responder_of(given.ward, name="Ali Khan", trusted=True)

    response_create(story=given.story, actor=trust_responder, organisation=given.trust, body="From the trust.")
    response_create(story=given.story, actor=ward_responder, organisation=given.ward, body="From the ward.")

    published = Response.objects.filter(story=given.story, status=ResponseStatus.PUBLISHED)
    assert {r.organisation for r in published} == {given.trust, given.ward}
    assert Story.objects.get(pk=given.story.pk).response_count == 2


def test_a_responder_for_two_organisations_chooses_which_one_speaks(client):
    given = ward_story()
    sam = responder_of(given.trust, trusted=True)
    MembershipFactory(user=sam, organisation=given.ward, role=StaffRole.RESPONDER, job_title="Matron")
    sign_in_verified(client, sam)

    page = client.get(respond_url(given.story)).content.decode()
    post_response(client, given.story, given.ward)

    assert "Respond on behalf of" in page
    assert "Riverside NHS Trust" in page
    assert "Willow Ward" in page
    response = Response.objects.get(story=given.story)
    assert response.organisation == given.ward
    assert response.signature == "Sam Patel, Matron, Willow Ward"


# --- What is checked ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "change", "description", "field"),
    [
        ("   ", "", "", "body"),
        ("x" * 10_001, "", "", "body"),
        ("Thank you.", "made", "", "change_description"),
        ("Thank you.", "improved", "Something", "change"),
    ],
)
def test_the_service_refuses_bad_text_by_field(body, change, description, field):
    given = ward_story()
    sam = responder_of(given.hospital, trusted=True)

    with pytest.raises(ValidationError) as caught:
        response_create(
            story=given.story, actor=sam, organisation=given.hospital, body=body, change=change,
            change_description=description,
        )

    assert field in caught.value.error_dict
    assert not Response.objects.filter(story=given.story).exists()


def test_the_respond_page_shows_errors_and_keeps_what_was_typed(client):
    given = ward_story()
    sam = responder_of(given.hospital, trusted=True)
    sign_in_verified(client, sam)

    page = post_response(client, given.story, given.hospital, body="We have changed the rota.", change="made")

    assert page.status_code == 200
    html = page.content.decode()
    assert "There is a problem" in html
    assert "Describe the change" in html
    assert 'href="#id_made_description"' in html
    assert "We have changed the rota." in html
    assert not Response.objects.filter(story=given.story).exists()


# --- Signatures ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        (None, "Sam Patel, Ward manager, Riverside Hospital"),
        (SignatureStyle.NAME_AND_TITLE, "Sam Patel, Ward manager, Riverside Hospital"),
        (SignatureStyle.TITLE_ONLY, "Ward manager, Riverside Hospital"),
        (SignatureStyle.ORGANISATION_ONLY, "Riverside Hospital"),
    ],
)
def test_responses_are_signed_as_the_organisation_chose(style, expected):
    given = ward_story()
    if style:
        StoryOrganisationSettings.objects.create(organisation=given.hospital, signature_style=style)
    sam = responder_of(given.hospital, trusted=True)

    response = response_create(story=given.story, actor=sam, organisation=given.hospital, body="Thank you.")

    assert response.signature == expected


def test_a_trusts_signature_style_applies_to_its_hospitals():
    given = ward_story()
    StoryOrganisationSettings.objects.create(organisation=given.trust, signature_style=SignatureStyle.ORGANISATION_ONLY)
    sam = responder_of(given.hospital, trusted=True)

    response = response_create(story=given.story, actor=sam, organisation=given.hospital, body="Thank you.")

    assert response.signature == "Riverside Hospital"


def test_a_signature_without_a_job_title_leaves_it_out():
    given = ward_story()
    sam = responder_of(given.hospital, job_title="", trusted=True)

    response = response_create(story=given.story, actor=sam, organisation=given.hospital, body="Thank you.")

    assert response.signature == "Sam Patel, Riverside Hospital"


# --- Moderation of new responders and change claims -----------------------------------------------


def test_a_new_responders_response_waits_for_a_moderator(client):
    given = ward_story()
    newcomer = responder_of(given.hospital)
    sign_in_verified(client, newcomer)

    page = client.get(respond_url(given.story)).content.decode()
    post_response(client, given.story, given.hospital)

    assert "A moderator will check your response before it is published" in page
    response = Response.objects.get(story=given.story)
    assert response.status == ResponseStatus.PENDING
    assert response.published_at is None
    story = Story.objects.get(pk=given.story.pk)
    assert story.progress != Progress.RESPONDED
    assert story.response_count == 0


def test_a_responder_is_trusted_once_enough_of_theirs_are_published(settings):
    settings.STORIES_RESPONDER_TRUSTED_AFTER = 2
    given = ward_story()
    sam = responder_of(given.hospital)
    ResponseFactory(story=StoryFactory(services=[given.service]), organisation=given.hospital, responder=sam)

    first = response_create(story=given.story, actor=sam, organisation=given.hospital, body="One.")
    ResponseFactory(story=StoryFactory(services=[given.service]), organisation=given.hospital, responder=sam)
    second = response_create(story=given.story, actor=sam, organisation=given.hospital, body="Two.")

    assert first.status == ResponseStatus.PENDING
    assert second.status == ResponseStatus.PUBLISHED


def test_a_trusted_responders_response_is_published_at_once_and_moves_the_story_on(client):
    given = ward_story()
    sam = responder_of(given.hospital, trusted=True)
    sign_in_verified(client, sam)

    page = client.get(respond_url(given.story)).content.decode()
    post_response(client, given.story, given.hospital)

    assert "Your response will be published straight away" in page
    story = Story.objects.get(pk=given.story.pk)
    assert story.progress == Progress.RESPONDED
    assert story.response_count == 1
    assert story.first_response_at is not None
    assert story.listings.filter(progress=Progress.RESPONDED).exists()


@pytest.mark.parametrize("change", ["planned", "made"])
def test_a_change_claim_is_always_moderated_even_from_a_trusted_responder(change):
    given = ward_story()
    sam = responder_of(given.hospital, trusted=True)

    response = response_create(
        story=given.story, actor=sam, organisation=given.hospital, body="We listened.", change=change,
        change_description="Night staff now check on patients every hour.",
    )

    assert response.status == ResponseStatus.PENDING
    assert Story.objects.get(pk=given.story.pk).changed_at is None


def test_each_response_is_audited():
    given = ward_story()
    sam = responder_of(given.hospital, trusted=True)

    response = response_create(story=given.story, actor=sam, organisation=given.hospital, body="Thank you.")

    event = AuditEvent.objects.get(action="stories.response_create", target_id=str(response.pk))
    assert event.actor == sam
    assert event.after["body"] == "Thank you."


# --- Templates on the respond page -----------------------------------------------------------------


def test_a_template_fills_the_response_box_with_its_placeholders_filled_in(client):
    given = ward_story()
    template = ResponseTemplate.objects.create(
        organisation=given.trust, title="Thank you",
        body="Dear {author_name}, thank you for “{story_title}”. {responder_name}, {job_title}, {organisation_name}. {unknown}",
    )
    sam = responder_of(given.hospital, trusted=True)
    sign_in_verified(client, sam)

    page = client.get(respond_url(given.story), {"organisation": given.hospital.pk, "template": template.pk})

    html = page.content.decode()
    assert (
        "Dear Jo from Riverside, thank you for “The night on Willow Ward”. "
        "Sam Patel, Ward manager, Riverside Hospital. {unknown}"
    ) in html.replace("&#34;", '"').replace("&#8220;", "“")


def test_another_organisations_templates_are_not_offered(client):
    given = ward_story()
    ResponseTemplate.objects.create(organisation=given.hospital, title="Ours", body="Ours.")
    other = OrganisationFactory(name="Hillside NHS Trust")
    secret = ResponseTemplate.objects.create(organisation=other, title="Theirs", body="Theirs.")
    sam = responder_of(given.hospital, trusted=True)
    sign_in_verified(client, sam)

    page = client.get(respond_url(given.story), {"template": secret.pk})

    html = page.content.decode()
    assert ">Ours<" in html
    assert "Theirs" not in html


# --- The edit window ---------------------------------------------------------------------------


def _sent_at(when):
    with freeze_time(when):
        given = ward_story()
        sam = responder_of(given.hospital, trusted=True)
        response = response_create(story=given.story, actor=sam, organisation=given.hospital, body="First text.")
    return given, sam, response


def test_a_responder_may_edit_within_the_window_and_readers_see_it_was_edited(client, settings):
    start = timezone.now().replace(microsecond=0)
    _given, sam, response = _sent_at(start)
    sign_in_verified(client, sam)
    url = reverse("stories:response_edit", kwargs={"response_id": response.pk})

    with freeze_time(start + timedelta(minutes=settings.STORIES_RESPONSE_EDIT_MINUTES) - timedelta(seconds=1)):
        page = client.get(url)
        posted = client.post(url, {"body": "Better text.", "change": ""})

    assert page.status_code == 200
    assert posted.status_code == 302
    response.refresh_from_db()
    assert response.body == "Better text."
    assert response.edited_at is not None
    assert response.status == ResponseStatus.PUBLISHED
    event = AuditEvent.objects.get(action="stories.response_edit", target_id=str(response.pk))
    assert event.before["body"] == "First text."
    assert event.after["body"] == "Better text."


def test_after_the_window_the_response_cannot_be_edited_and_says_so(client, settings):
    start = timezone.now().replace(microsecond=0)
    _given, sam, response = _sent_at(start)
    sign_in_verified(client, sam)
    url = reverse("stories:response_edit", kwargs={"response_id": response.pk})

    with freeze_time(start + timedelta(minutes=settings.STORIES_RESPONSE_EDIT_MINUTES)):
        page = client.get(url)
        posted = client.post(url, {"body": "Too late.", "change": ""})
        with pytest.raises(PermissionDenied):
            response_edit(response_id=response.pk, actor=sam, body="Too late.")

    assert "You can no longer change this response" in page.content.decode()
    assert posted.status_code == 403
    response.refresh_from_db()
    assert response.body == "First text."


def test_nobody_else_may_edit_a_response(client):
    given, _sam, response = _sent_at(timezone.now())
    colleague = responder_of(given.hospital, name="Ali Khan", trusted=True)
    sign_in_verified(client, colleague)

    posted = client.post(reverse("stories:response_edit", kwargs={"response_id": response.pk}), {"body": "Mine now."})

    assert posted.status_code == 403
    response.refresh_from_db()
    assert response.body == "First text."


def test_adding_a_change_claim_in_an_edit_sends_a_published_response_back_to_moderation(client):
    given, sam, response = _sent_at(timezone.now())
    assert Story.objects.get(pk=given.story.pk).response_count == 1
    sign_in_verified(client, sam)

    posted = client.post(
        reverse("stories:response_edit", kwargs={"response_id": response.pk}),
        {"body": "First text.", "change": "made", "made_description": "New night rota."},
    )

    assert posted.status_code == 302
    response.refresh_from_db()
    assert response.status == ResponseStatus.PENDING
    assert response.change == "made"
    assert response.change_description == "New night rota."
    story = Story.objects.get(pk=given.story.pk)
    assert story.response_count == 0
    assert story.changed_at is None


def test_the_respond_page_works_end_to_end_with_a_committing_client():
    # The whole request as in production: on-commit work (followers, webhooks) runs too.
    given = ward_story()
    sam = responder_of(given.hospital, trusted=True)
    client = sign_in_verified(CommittingClient(), sam)

    posted = post_response(client, given.story, given.hospital)

    response = Response.objects.get(story=given.story)
    assert posted["Location"].endswith(f"#response-{response.pk}")
    assert response.status == ResponseStatus.PUBLISHED
