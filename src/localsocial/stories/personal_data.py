"""Find personal data in a story so the author can remove it before moderation.

Pure Python: no models, no database. The same function serves the warnings shown while the
author types and the check made again at submit, so both always agree.

Every regular expression here is written so that it cannot backtrack catastrophically: each
repetition is over characters that cannot also start the next part of the pattern, and every
pattern that could start inside a run of letters or digits is anchored with a look-behind so
that it only tries at the start of the run. All patterns use re.ASCII so that, for example,
Arabic-Indic digits are not read as a phone number and the Kelvin sign is not read as a "K".
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from django.utils.translation import gettext as _

Kind = Literal["email", "phone", "nhs_number", "postcode", "date", "name"]

KINDS: tuple[Kind, ...] = ("email", "phone", "nhs_number", "postcode", "date", "name")


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of personal data: text[start:end] == self.text (offsets in code points)."""

    kind: Kind
    start: int
    end: int
    text: str
    reason: str


# When two candidates overlap, the longer wins; for the same length, the more specific kind
# (lower number) wins: a valid NHS number beats a phone number for the same ten digits.
_SPECIFICITY: dict[Kind, int] = {
    "nhs_number": 0,
    "email": 1,
    "phone": 2,
    "postcode": 3,
    "date": 4,
    "name": 5,
}

# Text that runs straight into an "@" is the start of an email address ("Dr Patel.x@nhs.net",
# "0161 496 0000.x@nhs.net"), so other kinds must not end there: the email finding covers it.
# Bounded at 64 (the longest local part) so a long run without "@" is not rescanned at every
# candidate, which would make the scan quadratic.
_NOT_BEFORE_AT = r"(?![\w.%+-]{0,64}@)"

# --- email -----------------------------------------------------------------------------------
# The look-behind stops a retry at every character of a long run; labels are separated by dots,
# so the domain repetition is unambiguous.
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])"
    r"[A-Za-z0-9._%+-]+@"
    r"(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}"
    r"(?![A-Za-z0-9_-])",
    re.ASCII,
)

# --- NHS number ------------------------------------------------------------------------------
# Ten digits, plain or grouped 3-3-4 with the same separator (space or hyphen) twice.
_NHS = re.compile(r"(?<![\w+])\d{3}([ -]?)\d{3}\1\d{4}(?!\w)" + _NOT_BEFORE_AT, re.ASCII)

# --- phone -----------------------------------------------------------------------------------
# A UK number starts with +44 / 0044 (optionally "(0)"), or with 0, or with "(0…)" around the
# area code. The digits after that may be split by single spaces or hyphens. How many digits
# there are is checked afterwards in Python, which keeps the pattern simple and linear.
_PHONE = re.compile(
    r"(?<![\w+(])"
    r"(?:"
    r"(?P<intl>\+44|0044)[ -]?(?:\(0\)[ -]?)?"
    r"|\((?P<area>0\d{2,4})\)[ -]?"
    r"|(?P<zero>0)"
    r")"
    r"(?P<rest>\d(?:[ -]?\d){3,11})"
    r"(?!\w)"
    + _NOT_BEFORE_AT,
    re.ASCII,
)

# --- postcode --------------------------------------------------------------------------------
# Full postcodes only: outward code (area letters, district) and inward code (sector digit and
# unit letters). The letters allowed in each position follow Royal Mail's rules, which keeps
# ordinary words like "b12 3rd" rare. A district alone ("SE1") is not flagged.
_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])"
    r"(?:GIR ?0AA"
    r"|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?"
    r" ?\d[ABD-HJLNP-UW-Z]{2})"
    r"(?![A-Za-z0-9])"
    + _NOT_BEFORE_AT,
    re.ASCII | re.IGNORECASE,
)

# --- dates -----------------------------------------------------------------------------------
# Month names are matched capitalised or in lower case, except "may", "mar" and "march", which
# are common English words in lower case ("we may", "to march").
_MONTH = (
    r"(?:[Jj]an(?:uary)?|[Ff]eb(?:ruary)?|Mar(?:ch)?|[Aa]pr(?:il)?|May|[Jj]une?|[Jj]uly?"
    r"|[Aa]ug(?:ust)?|[Ss]ep(?:t(?:ember)?)?|[Oo]ct(?:ober)?|[Nn]ov(?:ember)?|[Dd]ec(?:ember)?"
    r"|JAN(?:UARY)?|FEB(?:RUARY)?|MAR(?:CH)?|APR(?:IL)?|MAY|JUNE?|JULY?|AUG(?:UST)?"
    r"|SEP(?:T(?:EMBER)?)?|OCT(?:OBER)?|NOV(?:EMBER)?|DEC(?:EMBER)?)"
    r"(?![A-Za-z])"
)
_WEEKDAY = (
    r"(?:[Mm]on(?:day)?|[Tt]ue(?:s(?:day)?)?|[Ww]ed(?:nesday)?|[Tt]hu(?:r(?:s(?:day)?)?)?"
    r"|[Ff]ri(?:day)?|[Ss]at(?:urday)?|[Ss]un(?:day)?)(?![A-Za-z])"
)
_DAY = r"(?:3[01]|[12]\d|0?[1-9])(?![0-9])"
_ORDINAL = r"(?:st|nd|rd|th)(?![A-Za-z])"
_YEAR = r"(?:19|20)\d\d(?![0-9])"

_DATE = re.compile(
    r"(?<![\w.,:/£$-])(?:"
    # 3 March, 3rd of March 2024, Monday 3 March, Monday the 3rd of March, 3 Mar. 2024
    rf"(?:{_WEEKDAY},? +(?:the +)?)?{_DAY}(?:{_ORDINAL})? +(?:of +)?{_MONTH}(?:,? +{_YEAR})?"
    # March 3rd, March 3rd 2024, March 3, 2024, Monday March 3rd; not "March 15 people"
    rf"|(?:{_WEEKDAY},? +)?{_MONTH} +(?:the +)?{_DAY}(?:{_ORDINAL}(?:,? +{_YEAR})?|,? +{_YEAR})"
    # 03/03/2024, 3.3.24, 03-03-2024
    r"|(?:3[01]|[12]\d|0?[1-9])(?P<sep>[/.-])(?:1[0-2]|0?[1-9])(?P=sep)(?:\d{4}|\d\d)"
    # 2024-03-03, 2024/03/03
    r"|(?:19|20)\d\d(?P<isep>[/-])(?:1[0-2]|0[1-9])(?P=isep)(?:3[01]|[12]\d|0[1-9])"
    r")(?![\w/-]|\.\d)"
    + _NOT_BEFORE_AT,
    re.ASCII,
)

# --- names -----------------------------------------------------------------------------------
# A capitalised word: Patel, O'Neil, McDonald, Smith-Jones. Every part begins with a character
# the previous part cannot contain, so the pattern is linear.
# Letters are ASCII plus Latin-1 accented letters (Renée, Zoë), enough for most UK names.
_UPPER = "[A-ZÀ-ÖØ-Þ]"
_LOWER = "[a-zß-öø-ÿ]"
_APOSTROPHES = "'\u2019"  # straight and curly: O'Neil, O\u2019Neil
_NAME_WORD = rf"{_UPPER}(?:{_LOWER}+|[{_APOSTROPHES}]{_UPPER}{_LOWER}+)(?:-?{_UPPER}{_LOWER}+)*"
_NAME = rf"(?P<name>{_NAME_WORD}(?: {_NAME_WORD}){{0,2}})(?!\w){_NOT_BEFORE_AT}"

_TITLES = (
    r"(?:[Dd]r\.?|[Dd]octor|Mrs\.?|Mr\.?|Ms\.?|Mx\.?|Miss|[Nn]urse|[Ss]ister|[Mm]atron"
    r"|[Pp]rof\.?|[Pp]rofessor|Sir|Dame|[Cc]ouncillor|Cllr\.?)"
)
_RELATIONS = (
    r"(?:son|daughter|husband|wife|partner|mum|mom|mother|dad|father|brother|sister|"
    r"grandson|granddaughter|grandmother|grandfather|gran|nan|grandad|friend|neighbour|"
    r"carer|nurse|doctor|GP|consultant|surgeon|midwife|social worker|key worker)"
)
_NAME_PATTERNS = (
    re.compile(rf"(?<!\w)(?:{_TITLES}) +{_NAME}"),
    re.compile(rf"(?<!\w)[Mm]y +{_RELATIONS},? +{_NAME}"),
    re.compile(rf"(?<!\w)(?:[Cc]alled|[Nn]amed) +{_NAME}"),
)

# Capitalised words that follow a title or "my son" without being a name ("my son The …").
_NOT_NAMES = frozenset(
    {
        "A", "An", "And", "As", "At", "But", "By", "For", "From", "He", "Her", "His", "I", "If", "In",
        "Is", "It", "Its", "My", "No", "Not", "Of", "On", "Or", "She", "So", "That", "The", "Their",
        "Then", "There", "They", "This", "To", "Us", "We", "When", "Who", "You", "Your", "Yes", "Ok",
        "Okay", "Thank", "Thanks", "Please", "Today", "Tonight", "Tomorrow", "Yesterday", "Morning",
        "Afternoon", "Evening", "Night", "Later", "Now", "Monday", "Tuesday", "Wednesday", "Thursday",
        "Friday", "Saturday", "Sunday", "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December", "Ward", "Unit", "Clinic",
        "Hospital", "Surgery", "Practice", "Centre", "Department", "Team", "Service", "Services",
        "NHS", "GP", "A&E", "Emergency", "Practitioner", "Consultant", "Registrar", "Manager",
        "Receptionist",
    }
)
_TITLE_WORDS = frozenset(
    {
        "Dr", "Doctor", "Mr", "Mrs", "Ms", "Mx", "Miss", "Nurse", "Sister", "Matron", "Prof",
        "Professor", "Sir", "Dame", "Councillor", "Cllr",
    }
)
_NOT_NAMES = _NOT_NAMES | _TITLE_WORDS


def _reasons() -> dict[Kind, str]:
    # Translated at call time, in the language of the current request.
    return {
        "email": _("This looks like an email address. Remove it so you cannot be identified."),
        "phone": _(
            "This looks like a phone number. Remove it so you cannot be contacted or identified."
        ),
        "nhs_number": _(
            "This looks like an NHS number. Remove it: it identifies a patient on its own."
        ),
        "postcode": _(
            "This looks like a full postcode. Remove it, or give only the town or area, "
            "so you cannot be identified."
        ),
        "date": _(
            "This looks like an exact date. Give only the month and year (the form asks for "
            "them separately) so you cannot be identified."
        ),
        "name": _(
            "This looks like a person's name. Remove it or say their role instead, "
            "such as “the nurse”, so no one can be identified."
        ),
    }


def _redaction_labels() -> dict[Kind, str]:
    return {
        "email": _("[email address removed]"),
        "phone": _("[phone number removed]"),
        "nhs_number": _("[NHS number removed]"),
        "postcode": _("[postcode removed]"),
        "date": _("[date removed]"),
        "name": _("[name removed]"),
    }


def nhs_number_is_valid(digits: str) -> bool:
    """Whether ten digits carry a valid NHS Modulus 11 check digit."""
    if len(digits) != 10 or not digits.isascii() or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10:
        return False
    return check == int(digits[9])


def _phone_end(match: re.Match[str]) -> int | None:
    """Where the phone number in match ends, or None if it is not a plausible UK number.

    A UK national number is 9 or 10 digits after the leading 0 and never starts 0, 4 or 6.
    The pattern is greedy, so "07700 900123 3 March" first takes the "3"; dropping whole
    trailing groups finds the number that is really there.
    """
    area = match.group("area")
    rest = match.group("rest")
    while True:
        national = (area[1:] if area else "") + re.sub(r"\D", "", rest, flags=re.ASCII)
        if 9 <= len(national) <= 10 and national[0] in "1235789":
            return match.start("rest") + len(rest)
        cut = max(rest.rfind(" "), rest.rfind("-"))
        if cut <= 0 or len(national) < 9:
            return None
        rest = rest[:cut]


def _candidates(text: str) -> Iterator[tuple[Kind, int, int]]:
    for m in _EMAIL.finditer(text):
        yield "email", m.start(), m.end()
    for m in _NHS.finditer(text):
        if nhs_number_is_valid(re.sub(r"\D", "", m.group(), flags=re.ASCII)):
            yield "nhs_number", m.start(), m.end()
    # Not finditer: a failed candidate ("03-03 07700 900123" read from the first 0) must not
    # swallow the real number after it. Each attempt reads at most ~30 characters, so the
    # retry one character later keeps the scan linear.
    pos = 0
    while (phone := _PHONE.search(text, pos)) is not None:
        end = _phone_end(phone)
        if end is None:
            pos = phone.start() + 1
        else:
            yield "phone", phone.start(), end
            pos = end
    for m in _POSTCODE.finditer(text):
        yield "postcode", m.start(), m.end()
    for m in _DATE.finditer(text):
        yield "date", m.start(), m.end()
    for pattern in _NAME_PATTERNS:
        # Resume after the name itself, not the whole match: in "Dr Patel Dr Jones" the first
        # match reads "Patel Dr Jones", is cut at "Dr", and "Dr Jones" must still be found.
        pos = 0
        while (name := pattern.search(text, pos)) is not None:
            span = _name_span(name)
            if span is None:
                pos = name.start() + 1
            else:
                yield "name", span[0], span[1]
                pos = span[1]


def _name_span(match: re.Match[str]) -> tuple[int, int] | None:
    """The name's own span: leading titles skipped ("my doctor Dr Patel"), cut before the
    first other word that is not a name ("Nurse Jones The …")."""
    start = match.start("name")
    end = None
    for word in match.group("name").split(" "):
        if end is None and word in _TITLE_WORDS:
            start += len(word) + 1
            continue
        if word in _NOT_NAMES:
            break
        end = start + len(word) if end is None else end + 1 + len(word)
    return (start, end) if end is not None else None


def _resolve(candidates: Iterable[tuple[Kind, int, int]]) -> list[tuple[Kind, int, int]]:
    """Drop overlaps, best first: the longer wins, then the more specific kind; sorted by start."""
    best_first = sorted(
        set(candidates), key=lambda c: (-(c[2] - c[1]), _SPECIFICITY[c[0]], c[1])
    )
    kept: list[tuple[Kind, int, int]] = []  # sorted by start, never overlapping
    starts: list[int] = []
    for cand in best_first:
        i = bisect.bisect_left(starts, cand[1])
        if i > 0 and kept[i - 1][2] > cand[1]:
            continue
        if i < len(kept) and kept[i][1] < cand[2]:
            continue
        kept.insert(i, cand)
        starts.insert(i, cand[1])
    return kept


def personal_data_find(text: str) -> list[Finding]:
    """Every piece of personal data in text, sorted by start, none overlapping.

    Offsets are Python string indices (Unicode code points) into text as given.
    """
    reasons = _reasons()
    return [
        Finding(kind=kind, start=start, end=end, text=text[start:end], reason=reasons[kind])
        for kind, start, end in _resolve(_candidates(text))
    ]


def personal_data_redact(text: str, findings: Iterable[Finding]) -> str:
    """text with each finding replaced by a bracketed label such as "[email address removed]".

    Findings are applied in order of start; one that overlaps an earlier one is skipped.
    """
    labels = _redaction_labels()
    parts: list[str] = []
    cursor = 0
    for finding in sorted(findings, key=lambda f: (f.start, -f.end)):
        if finding.start < cursor or finding.end > len(text):
            continue
        parts.append(text[cursor : finding.start])
        parts.append(labels[finding.kind])
        cursor = finding.end
    parts.append(text[cursor:])
    return "".join(parts)
