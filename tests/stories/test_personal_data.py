"""The personal-data detector warns authors about what could identify someone in their story."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localsocial.stories.personal_data import (
    KINDS,
    Finding,
    nhs_number_is_valid,
    personal_data_find,
    personal_data_redact,
)

# The project's autouse fixtures are function-scoped; they do not change between examples.
modest = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def found(text: str) -> list[tuple[str, str]]:
    return [(f.kind, f.text) for f in personal_data_find(text)]


def nhs_check_digit(nine: str) -> int | None:
    """Independent of the module: the NHS Modulus 11 rule as the data dictionary states it."""
    total = sum(int(d) * (10 - i) for i, d in enumerate(nine))
    check = 11 - (total % 11)
    if check == 11:
        return 0
    return None if check == 10 else check


# --- examples: what is found ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Email me at jo.bloggs+nhs@example.co.uk.", "jo.bloggs+nhs@example.co.uk"),
        ("write to A.N.Other@council.gov.uk today", "A.N.Other@council.gov.uk"),
    ],
)
def test_email_addresses_are_found(text, expected):
    assert found(text) == [("email", expected)]


@pytest.mark.parametrize(
    "number",
    [
        "07700 900123",
        "07700900123",
        "07700 900 123",
        "+44 7700 900123",
        "+447700900123",
        "+44 (0)20 7946 0018",
        "(020) 7946 0018",
        "020 7946 0018",
        "0161 496 0000",
        "0161-496-0000",
        "01632 960 123",
        "01632 960123",
        "0808 157 0192",
    ],
)
def test_uk_phone_numbers_are_found(number):
    assert found(f"Ring them on {number} after ten.") == [("phone", number)]


@pytest.mark.parametrize("number", ["943 476 5919", "943-476-5919", "9434765919", "401 023 2137"])
def test_nhs_numbers_with_a_valid_check_digit_are_found(number):
    assert found(f"My NHS number is {number}, they said.") == [("nhs_number", number)]


def test_an_nhs_number_that_also_looks_like_a_phone_number_is_reported_as_an_nhs_number():
    # 012 345 6789 has a valid check digit and starts with 0 like a phone number.
    assert nhs_number_is_valid("0123456789")

    assert found("number 012 345 6789 here") == [("nhs_number", "012 345 6789")]


@pytest.mark.parametrize("postcode", ["SE1 7EH", "sw1a1aa", "SW1A 1AA", "GIR 0AA", "M1 1AE", "b33 8th"])
def test_full_postcodes_are_found_in_any_case_with_or_without_the_space(postcode):
    assert found(f"I live at {postcode} near the park") == [("postcode", postcode)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It was on 3 March 2024 at night", "3 March 2024"),
        ("on the 3rd of March we waited", "3rd of March"),
        ("seen 03/03/2024 by the team", "03/03/2024"),
        ("seen 3.3.24 by the team", "3.3.24"),
        ("logged 2024-03-03 in the notes", "2024-03-03"),
        ("from Monday 3 March until", "Monday 3 March"),
        ("from Monday the 3rd of March until", "Monday the 3rd of March"),
        ("it was March 3rd, 2024 when", "March 3rd, 2024"),
        ("it was Sept 21st when", "Sept 21st"),
        ("on 14 feb 2023 we went", "14 feb 2023"),
    ],
)
def test_exact_dates_are_found(text, expected):
    assert found(text) == [("date", expected)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dr Patel was kind", "Patel"),
        ("Nurse Jones held my hand", "Jones"),
        ("Mrs Smith on reception", "Smith"),
        ("Mr O'Neil explained", "O'Neil"),
        ("Sister Agnes came", "Agnes"),
        ("Dr Patel's ward was clean", "Patel"),
        ("my son Jack was scared", "Jack"),
        ("my GP Amira Khan listened", "Amira Khan"),
        ("a nurse called Sarah Brown", "Sarah Brown"),
        ("a porter named Renée helped", "Renée"),
        ("my doctor Dr McDonald said", "McDonald"),
        ("Nurse Smith-Jones The night after", "Smith-Jones"),
    ],
)
def test_names_after_a_title_a_relation_or_called_are_found(text, expected):
    assert found(text) == [("name", expected)]


def test_each_finding_has_offsets_into_the_original_text_and_a_reason():
    text = "Hi, I'm jo@example.com and Dr Patel saw me on 3 March 2024 at SE1 7EH."

    findings = personal_data_find(text)

    assert [f.kind for f in findings] == ["email", "name", "date", "postcode"]
    for f in findings:
        assert text[f.start : f.end] == f.text
        assert f.reason.startswith("This looks like")
    assert findings[0].reason == (
        "This looks like an email address. Remove it so you cannot be identified."
    )


# --- examples: what is not found --------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "I waited 3 hours in 2024 and it cost £25.50 for parking.",
        "We went in March 2024 and again in April 2023.",
        "In March 15 people complained.",
        "There were 1,000 people and 12345678 forms.",
        "The ward was in SE1 and the clinic in Leeds.",
        "The nurse was kind. Then I left. Yesterday The Doctor came.",
        "Dr said nothing. My son was fine.",
        "We may march on 3 may be.",
        "Room 0.5 and version 2.10.3 at 10:30.",
        "Reference 943 476 5918 on the letter.",
        "Arabic-Indic digits \u0660\u0667\u0667\u0660\u0660 \u0669\u0660\u0660\u0661\u0662\u0663 too.",
    ],
)
def test_ordinary_text_is_not_flagged(text):
    assert found(text) == []


def test_ten_digits_with_a_wrong_check_digit_are_not_an_nhs_number():
    assert not nhs_number_is_valid("9434765918")

    assert found("number 9434765918 here") == []


def test_ten_digits_with_a_wrong_check_digit_that_look_like_a_phone_number_are_a_phone_number():
    assert not nhs_number_is_valid("0123456780")

    assert found("number 0123456780 here") == [("phone", "0123456780")]


# --- overlaps and redaction -------------------------------------------------------------------


def test_an_email_that_contains_a_postcode_is_one_email_finding():
    assert found("sw1a1aa@example.com") == [("email", "sw1a1aa@example.com")]


def test_redaction_replaces_each_finding_with_a_label_and_keeps_the_rest():
    text = "Dr Patel rang 07700 900123 about 943 476 5919 on 3 March, write to jo@example.com"

    redacted = personal_data_redact(text, personal_data_find(text))

    assert redacted == (
        "Dr [name removed] rang [phone number removed] about [NHS number removed] "
        "on [date removed], write to [email address removed]"
    )


def test_a_phone_number_followed_by_a_date_keeps_both_apart():
    assert found("07700 900123 3 March 2024") == [
        ("phone", "07700 900123"),
        ("date", "3 March 2024"),
    ]


def test_two_titled_names_side_by_side_are_both_found():
    assert found("seen by Dr Patel Dr Jones and Nurse Amy") == [
        ("name", "Patel"),
        ("name", "Jones"),
        ("name", "Amy"),
    ]


def test_a_name_or_number_running_into_an_email_address_is_part_of_the_email():
    assert found("ask my son Jack.Smith@example.com") == [("email", "Jack.Smith@example.com")]


def test_redaction_with_no_findings_returns_the_text_unchanged():
    assert personal_data_redact("Nothing to see.", []) == "Nothing to see."


# --- properties -------------------------------------------------------------------------------

letters_and_spaces = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ", max_size=40)


@st.composite
def nhs_numbers(draw) -> str:
    nine = draw(st.text(alphabet="0123456789", min_size=9, max_size=9))
    check = nhs_check_digit(nine)
    if check is None:
        # Nine digits whose check would be 10 cannot be an NHS number; move to a neighbour.
        nine = nine[:8] + str((int(nine[8]) + 1) % 10)
        check = nhs_check_digit(nine)
    assert check is not None
    digits = f"{nine}{check}"
    sep = draw(st.sampled_from(["", " ", "-"]))
    return f"{digits[:3]}{sep}{digits[3:6]}{sep}{digits[6:]}"


local_parts = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,20}", fullmatch=True)
domains = st.from_regex(r"([A-Za-z0-9][A-Za-z0-9-]{0,10}\.){1,3}[A-Za-z]{2,6}", fullmatch=True)
emails = st.builds(lambda a, b: f"{a}@{b}", local_parts, domains)


@modest
@given(nhs=nhs_numbers(), before=letters_and_spaces, after=letters_and_spaces)
def test_any_valid_nhs_number_in_text_is_found_with_exact_offsets(nhs, before, after):
    text = f"{before} {nhs} {after}"
    start = len(before) + 1

    findings = personal_data_find(text)

    assert Finding(
        kind="nhs_number", start=start, end=start + len(nhs), text=nhs, reason=findings[0].reason
    ) in findings


@modest
@given(email=emails, before=letters_and_spaces, after=letters_and_spaces)
def test_any_email_in_text_is_found_with_exact_offsets(email, before, after):
    text = f"{before} {email} {after}"
    start = len(before) + 1

    spans = [(f.kind, f.start, f.end) for f in personal_data_find(text)]

    assert ("email", start, start + len(email)) in spans


@modest
@given(st.text())
def test_any_text_never_raises_and_every_finding_points_at_its_own_text(text):
    for f in personal_data_find(text):
        assert f.kind in KINDS
        assert 0 <= f.start < f.end <= len(text)
        assert text[f.start : f.end] == f.text


pieces = st.one_of(
    nhs_numbers(),
    emails,
    st.sampled_from(
        [
            "07700 900123", "+44 7700 900123", "(020) 7946 0018", "0161 496 0000",
            "SE1 7EH", "sw1a1aa", "GIR 0AA", "3 March 2024", "3rd of March", "03/03/2024",
            "2024-03-03", "Monday 3 March", "Dr Patel", "Nurse Jones", "my son Jack",
            "called Sarah", "March 2024", "3 hours", "£25", "2024", "The", "Then", "I",
            "the nurse", "was", "kind", "Dr", "Nurse", "my", "called", "March", "Monday",
        ]
    ),
    st.text(alphabet="abcdefghij ABCDEFG0123456789.,", max_size=12),
)
stories = st.lists(pieces, max_size=25).map(" ".join)


@modest
@given(stories)
def test_redacting_the_findings_leaves_nothing_to_find(text):
    redacted = personal_data_redact(text, personal_data_find(text))

    assert personal_data_find(redacted) == []


@modest
@given(st.one_of(stories, st.text()))
def test_findings_are_sorted_and_never_overlap(text):
    findings = personal_data_find(text)

    for earlier, later in itertools.pairwise(findings):
        assert earlier.end <= later.start
