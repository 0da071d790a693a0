"""One address, one account, however it is typed."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localsocial.accounts import services
from localsocial.accounts.models import User, email_normalise
from localsocial.accounts.selectors import user_get_by_email

local_part = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,20}", fullmatch=True)
domain = st.from_regex(r"[A-Za-z0-9]{1,12}\.(org|Com|UK|gov\.uk)", fullmatch=True)
emails = st.builds(lambda a, b: f"{a}@{b}", local_part, domain)
padding = st.text(alphabet=" \t", max_size=3)


@given(st.text(max_size=60))
def test_normalising_is_idempotent(text):
    once = email_normalise(text)

    assert email_normalise(once) == once
    assert once == once.strip()


@given(emails, padding, padding)
def test_case_and_surrounding_spaces_do_not_matter(email, before, after):
    assert email_normalise(f"{before}{email.swapcase()}{after}") == email_normalise(email)
    assert email_normalise(email) == email.lower()


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(email=emails, variant=st.sampled_from([str.upper, str.lower, str.swapcase, str.title]))
def test_signing_up_twice_in_another_case_never_makes_two_accounts(email, variant, django_capture_on_commit_callbacks):
    User.objects.all().delete()

    services.user_sign_up(email=email, display_name="First", password="x-long-enough-password")
    services.user_sign_up(email=f" {variant(email)} ", display_name="Second", password="x-long-enough-password")

    assert User.objects.count() == 1
    assert user_get_by_email(email=variant(email)) == User.objects.get()
