"""What a scale means: how many of each thing ``localsocial generate --scale N`` writes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

# How many stories the next plan has, when the command was given ``--stories N`` (the number
# of stories does not follow the directory's scale: a benchmark wants a million stories about
# the 10,000 services of scale 1).  A context variable, because ``engine.generate`` builds the
# plan from the scale alone.
_STORIES: ContextVar[int | None] = ContextVar("generate_stories", default=None)


@contextmanager
def stories_count(stories: int | None) -> Iterator[None]:
    """Within this block, ``GenerationPlan.for_scale`` plans ``stories`` stories (``None``:
    the scale's default)."""
    token = _STORIES.set(stories)
    try:
        yield
    finally:
        _STORIES.reset(token)


def _scaled(base: float, scale: float, minimum: int = 1) -> int:
    # Round half up, so that a small scale rounds the way a reader expects.
    return max(minimum, int(base * scale + 0.5))


@dataclass(frozen=True)
class GenerationPlan:
    """How many of each thing a scale means.  At scale 1:

    * 100 councils, each with 5 directorates of 4 service teams, 2 services a team;
    * 40 NHS trusts, each with 4 hospitals of 6 departments, 2 services a department;
    * 240 charities with 1 service each;
    * 900 areas (a district and 8 wards for each council);
    * 100,000 people; 1,320 staff memberships; 120 moderators, coordinators and facilitators;
    * 10,000 stories (``--stories N`` sets any number), with about 0.6 responses each.

    That is 4,000 organisations and 6,160 services: 10,160 in all.
    """

    scale: float
    councils: int
    trusts: int
    charities: int
    users: int
    moderators: int
    coordinators: int
    facilitators: int
    stories: int = 0

    DIRECTORATES_PER_COUNCIL = 5
    TEAMS_PER_DIRECTORATE = 4
    SERVICES_PER_TEAM = 2
    HOSPITALS_PER_TRUST = 4
    DEPARTMENTS_PER_HOSPITAL = 6
    SERVICES_PER_DEPARTMENT = 2
    SERVICES_PER_CHARITY = 1
    WARDS_PER_COUNCIL = 8
    AREAS_PER_TRUST = 3
    # Staff: at a council, an administrator and two responders at the top and a member in
    # each directorate; at a trust, the same at the top and a responder in each hospital.
    COUNCIL_STAFF = 3 + DIRECTORATES_PER_COUNCIL
    TRUST_STAFF = 3 + HOSPITALS_PER_TRUST
    CHARITY_STAFF = 1
    STORIES_PER_SCALE = 10_000
    # Responses (from organisations, and authors' replies) per story, on average.
    RESPONSES_PER_STORY = 0.6

    @classmethod
    def for_scale(cls, scale: float, *, stories: int | None = None) -> GenerationPlan:
        """The plan for ``scale``; ``stories`` (or an enclosing ``stories_count``) overrides
        the scale's number of stories."""
        if scale <= 0:
            raise ValueError("The scale must be more than 0.")
        if stories is None:
            stories = _STORIES.get()
        if stories is not None and stories < 0:
            raise ValueError("The number of stories cannot be negative.")
        return cls(
            scale=scale,
            councils=_scaled(100, scale),
            trusts=_scaled(40, scale),
            charities=_scaled(240, scale),
            users=_scaled(100_000, scale, minimum=10),
            moderators=_scaled(20, scale),
            coordinators=_scaled(50, scale),
            facilitators=_scaled(50, scale),
            stories=stories if stories is not None else _scaled(cls.STORIES_PER_SCALE, scale, minimum=0),
        )

    @property
    def council_orgs(self) -> int:
        return 1 + self.DIRECTORATES_PER_COUNCIL * (1 + self.TEAMS_PER_DIRECTORATE)

    @property
    def trust_orgs(self) -> int:
        return 1 + self.HOSPITALS_PER_TRUST * (1 + self.DEPARTMENTS_PER_HOSPITAL)

    @property
    def organisations(self) -> int:
        return (self.councils * self.council_orgs + self.trusts * self.trust_orgs
                + self.charities)

    @property
    def services(self) -> int:
        return (
            self.councils * self.DIRECTORATES_PER_COUNCIL * self.TEAMS_PER_DIRECTORATE
            * self.SERVICES_PER_TEAM
            + self.trusts * self.HOSPITALS_PER_TRUST * self.DEPARTMENTS_PER_HOSPITAL
            * self.SERVICES_PER_DEPARTMENT
            + self.charities * self.SERVICES_PER_CHARITY
        )

    @property
    def areas(self) -> int:
        return self.councils * (1 + self.WARDS_PER_COUNCIL)

    @property
    def memberships(self) -> int:
        return (self.councils * self.COUNCIL_STAFF + self.trusts * self.TRUST_STAFF
                + self.charities * self.CHARITY_STAFF)

    @property
    def role_grants(self) -> int:
        return sum(min(n, self.users) for n in (self.moderators, self.coordinators, self.facilitators))

    @property
    def responses(self) -> int:
        """About how many responses the stories get (the generator draws them at random)."""
        return round(self.stories * self.RESPONSES_PER_STORY)
