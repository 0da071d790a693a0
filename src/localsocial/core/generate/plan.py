"""What a scale means: how many of each thing ``localsocial generate --scale N`` writes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.utils.module_loading import autodiscover_modules


@dataclass(frozen=True)
class GeneratorOption:
    """A number a module's steps generate, with its own ``--name N`` option on the command.

    ``per_scale`` is how many at scale 1 (the default is that times the scale, rounded, and
    at least ``minimum``); ``label`` names them in the command's summary ("300 stories")."""

    name: str
    per_scale: float
    help: str
    minimum: int = 0
    label: str = ""

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")

    def default_for(self, scale: float) -> int:
        return _scaled(self.per_scale, scale, minimum=self.minimum)


_OPTIONS: dict[str, GeneratorOption] = {}


def generator_option(name: str, *, per_scale: float, help: str, minimum: int = 0,
                     label: str = "") -> GeneratorOption:
    """Declare a count a module generates (``--name N`` on ``localsocial generate``); its steps
    read it as ``ctx.plan.count(name)``.  Declaring a name again replaces it."""
    option = GeneratorOption(name=name, per_scale=per_scale, help=help, minimum=minimum,
                             label=label or name.replace("-", " "))
    _OPTIONS[name] = option
    return option


def generator_options() -> list[GeneratorOption]:
    """Every declared option, in the order declared; each app's ``generate`` module is imported
    first so that its options are declared."""
    autodiscover_modules("generate")
    return list(_OPTIONS.values())


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

    That is 4,000 organisations and 6,160 services: 10,160 in all.  The modules' own numbers
    (stories, circles …) are in ``counts``, by the name of the option each module declares
    (``generator_option``): ``plan.count("stories")``.
    """

    scale: float
    councils: int
    trusts: int
    charities: int
    users: int
    moderators: int
    coordinators: int
    facilitators: int
    counts: Mapping[str, int] = field(default_factory=dict)

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

    @classmethod
    def for_scale(cls, scale: float, *, counts: Mapping[str, int | None] | None = None) -> GenerationPlan:
        """The plan for ``scale``; ``counts`` sets any module's numbers whatever the scale
        (``{"stories": 1_000_000}``; ``None`` or a missing name: the scale's default)."""
        if scale <= 0:
            raise ValueError("The scale must be more than 0.")
        given = dict(counts or {})
        resolved: dict[str, int] = {}
        for option in generator_options():
            number = given.pop(option.name, None)
            if number is not None and number < 0:
                raise ValueError(f"The number of {option.label} cannot be negative.")
            resolved[option.name] = number if number is not None else option.default_for(scale)
        unknown = [name for name, number in given.items() if number is not None]
        if unknown:
            raise ValueError(f"No module generates {', '.join(sorted(unknown))}.")
        return cls(
            scale=scale,
            councils=_scaled(100, scale),
            trusts=_scaled(40, scale),
            charities=_scaled(240, scale),
            users=_scaled(100_000, scale, minimum=10),
            moderators=_scaled(20, scale),
            coordinators=_scaled(50, scale),
            facilitators=_scaled(50, scale),
            counts=resolved,
        )

    def count(self, name: str) -> int:
        """How many of a module's things to generate (the option ``name`` it declared)."""
        try:
            return self.counts[name]
        except KeyError:
            raise KeyError(f"No generator option {name!r} is declared.") from None

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
