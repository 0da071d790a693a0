"""API tokens: the developer pages that make and revoke them, and how the API checks them."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from localsocial.api.models import ApiToken
from localsocial.core.models import AuditEvent
from tests.api.problems import problem
from tests.api.tokens import bearer
from tests.factories import MembershipFactory, OrganisationFactory, ServiceFactory, UserFactory
from tests.helpers import sign_in_verified

pytestmark = pytest.mark.django_db

STORY = "/api/stories/"


# --- The pages ---------------------------------------------------------------------------------

def test_the_pages_need_a_signed_in_person(client):
    for url in ("/developers/", "/developers/tokens/new/"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/accounts/" in response["Location"]


def test_staff_must_use_two_factor_before_the_pages(client):
    member = MembershipFactory(role="responder").user
    client.force_login(member)
    response = client.get("/developers/")
    assert response.status_code == 302
    assert "two-factor" in response["Location"] or "two_factor" in response["Location"] or "2fa" in response["Location"]


def test_a_token_is_shown_once_and_kept_only_as_a_hash(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post("/developers/tokens/new/", {"name": "Kiosk", "scopes": ["stories:write"]})
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(user=user)
    found = re.search(r'value="(ls_[A-Za-z0-9_-]+)"', page.content.decode())
    assert found
    secret = found.group(1)
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.prefix == secret[:10]
    assert secret not in str(ApiToken.objects.filter(pk=token.pk).values().get())
    # Never again.
    again = client.get(response["Location"])
    assert again.status_code == 302
    assert secret not in client.get("/developers/").content.decode()
    listing = client.get("/developers/").content.decode()
    assert "Kiosk" in listing
    assert f"{token.prefix}…" in listing
    event = AuditEvent.objects.get(action="api.token_create")
    assert event.actor == user
    assert event.target_id == str(token.pk)
    assert secret not in str(event.after)


def test_organisation_choices_are_where_you_respond_or_administer(client):
    user = UserFactory()
    responds = MembershipFactory(user=user, role="responder").organisation
    administers = MembershipFactory(user=user, role="administrator").organisation
    member_only = MembershipFactory(user=user, role="member").organisation
    client.force_login(user)
    sign_in_verified(client, user)
    html = client.get("/developers/tokens/new/").content.decode()
    select = html[html.index('name="organisation"'):]
    select = select[: select.index("</select>")]
    assert set(re.findall(r'<option value="([^"]*)"', select)) == {"", str(responds.pk), str(administers.pk)}
    refused = client.post("/developers/tokens/new/", {
        "name": "x", "scopes": ["responses:write"], "organisation": str(member_only.pk)})
    assert refused.status_code == 400
    assert "Choose an organisation from the list" in refused.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "scopes": ["stories:write"]}, "Enter a name for the token"),
        ({"name": "x"}, "Choose what the token may do"),
        ({"name": "x", "scopes": ["responses:write"]}, "Choose the organisation the token acts for"),
        ({"name": "x", "scopes": ["webhooks:manage"], "organisation": "RESPONDER_ORG"},
         "You do not have the role at"),
        ({"name": "x", "scopes": ["stories:write"], "expires_on": "1/1/2020"}, "The expiry date must be in the future"),
        ({"name": "x", "scopes": ["stories:write"], "expires_on": "soon"}, "Enter the expiry date as day/month/year"),
    ],
)
def test_token_form_errors(client, data, message):
    user = UserFactory()
    organisation = MembershipFactory(user=user, role="responder").organisation
    sign_in_verified(client, user)
    if data.get("organisation") == "RESPONDER_ORG":
        data = {**data, "organisation": str(organisation.pk)}
    response = client.post("/developers/tokens/new/", data)
    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()
    assert message in response.content.decode()
    assert not ApiToken.objects.exists()


def test_revoking_stops_the_token_at_once_and_is_audited(client, make_token):
    user = UserFactory()
    token, secret = make_token(user)
    client.force_login(user)
    assert client.get(f"/developers/tokens/{token.pk}/revoke/").status_code == 200
    assert client.post(f"/developers/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(action="api.token_revoke", target_id=str(token.pk)).exists()
    response = client.post(STORY, {}, content_type="application/json", **bearer(secret))
    assert response.status_code == 401


def test_nobody_can_see_or_revoke_someone_elses_token(client, make_token):
    token, _secret = make_token(UserFactory())
    client.force_login(UserFactory())
    assert client.get(f"/developers/tokens/{token.pk}/revoke/").status_code == 404
    assert client.post(f"/developers/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


# --- The API's checks ---------------------------------------------------------------------------

def _story_body(service_slug="svc"):
    return {
        "title": "Kind reception", "body": "The receptionist found me a seat.", "services": [service_slug],
        "author_role": "patient", "happened_month": f"{timezone.localdate():%Y-%m}", "pseudonym": "Sam",
        "email": "sam@example.org",
    }


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer"},
        {"HTTP_AUTHORIZATION": "Bearer ls_not-a-real-token"},
        {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"},
        {"HTTP_AUTHORIZATION": "Bearer " + "x" * 5000},
    ],
)
def test_a_missing_or_wrong_token_is_401_json_never_a_redirect(client, db, headers):
    response = client.post(STORY, _story_body(), content_type="application/json", **headers)
    assert problem(response, 401, "not-authenticated")["detail"] == "Authentication credentials were missing or wrong."
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_signed_in_session_is_not_a_token(client, db):
    user = UserFactory()
    client.force_login(user)
    response = client.post(STORY, _story_body(), content_type="application/json")
    assert response.status_code == 401


@pytest.mark.parametrize(
    "spoil",
    [
        lambda token: ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now()),
        lambda token: ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1)),
        lambda token: type(token.user).objects.filter(pk=token.user_id).update(is_active=False),
    ],
    ids=["revoked", "expired", "account closed"],
)
def test_revoked_expired_and_closed_account_tokens_are_401(client, make_token, spoil):
    ServiceFactory(slug="svc")
    token, secret = make_token(UserFactory())
    spoil(token)
    response = client.post(STORY, _story_body(), content_type="application/json", **bearer(secret))
    assert response.status_code == 401


def test_a_token_that_will_expire_still_works(client, make_token):
    ServiceFactory(slug="svc")
    _token, secret = make_token(UserFactory(), expires_at=timezone.now() + timedelta(days=1))
    response = client.post(STORY, _story_body(), content_type="application/json", **bearer(secret))
    assert response.status_code == 201, response.content


def test_a_missing_scope_is_403_json(client, make_token):
    user = UserFactory()
    organisation = MembershipFactory(user=user, role="responder").organisation
    _token, secret = make_token(user, scopes=["responses:write"], organisation=organisation)
    ServiceFactory(slug="svc")
    response = client.post(STORY, _story_body(), content_type="application/json", **bearer(secret))
    assert problem(response, 403, "forbidden")["detail"] == "This token does not have the stories:write scope."


def test_last_used_is_recorded_at_most_once_a_minute(client, make_token, django_assert_num_queries):
    ServiceFactory(slug="svc")
    token, secret = make_token(UserFactory())
    assert token.last_used_at is None
    client.post(STORY, {}, content_type="application/json", **bearer(secret))
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    client.post(STORY, {}, content_type="application/json", **bearer(secret))
    token.refresh_from_db()
    assert token.last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=2))
    client.post(STORY, {}, content_type="application/json", **bearer(secret))
    token.refresh_from_db()
    assert token.last_used_at > first


def test_an_organisation_token_stops_when_its_person_loses_the_role(client, make_token):
    from tests.factories import StoryFactory

    organisation = OrganisationFactory()
    membership = MembershipFactory(role="responder", organisation=organisation)
    story = StoryFactory(services=[ServiceFactory(organisation=organisation)])
    _token, secret = make_token(membership.user, scopes=["responses:write"], organisation=organisation)
    membership.role = "member"
    membership.save()
    response = client.post(f"/api/stories/{story.pk}/responses/", {"body": "Thank you."},
                           content_type="application/json", **bearer(secret))
    assert "no longer has a role" in problem(response, 403, "forbidden")["detail"]
