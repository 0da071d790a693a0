"""The large-data generator: a fictional national dataset, fast, for benchmarks.

``--scale 1`` is about 10,000 organisations and services and 100,000 people; every count is a
ratio times the scale (see ``GenerationPlan``), so ``--scale 0.01`` is a quick sample and
``--scale 10`` is a million people.

How it stays fast:

* ids are precomputed (the next free id onwards), so that tree paths and foreign keys are known
  before a row is written and nothing is read back;
* rows are streamed: PostgreSQL receives them through ``COPY`` (psycopg 3 ``cursor.copy``),
  other databases through ``bulk_create`` in large batches;
* every generated person shares one password hash, computed once (see ``_password_hash``).

Generated rows are marked so that ``--reset`` can find them: slugs start with ``gen-``, email
addresses end with ``@generated.invalid`` and area GSS codes start with ``E059`` or ``E069``
(instance numbers from 900000 up, which no real area uses).

Each module adds its own data by registering a step in its app's ``generate.py``::

    from localsocial.core.generate import GenerateContext, generator_step

    def stories_reset() -> int: ...

    @generator_step("stories.stories", order=100, reset=stories_reset)
    def stories_generate(ctx: GenerateContext) -> int:
        services = ctx.ids["services"]; users = ctx.ids["users"]
        return bulk_insert(Story, [...columns...], (... rows ...))

Steps run in ``order``; resets run in the reverse order, so a step's reset can rely on the
rows it points at still being there.  The generator assumes a quiet database: it takes the
next free ids without locking, so it must not run while the site is taking writes.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max, Q, signals
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from localsocial.accounts.models import RoleGrant, SiteRole, User
from localsocial.directory.models import (
    PATH_SEGMENT,
    Area,
    Organisation,
    OrganisationMembership,
    OrganisationType,
    Service,
    StaffRole,
)

GENERATED_SLUG_PREFIX = "gen-"
GENERATED_EMAIL_DOMAIN = "generated.invalid"
GENERATED_DISTRICT_PREFIX = "E069"
GENERATED_WARD_PREFIX = "E059"
# Every generated person can sign in with this password (useful for load tests of signed-in
# pages); the data is fictional and the addresses undeliverable.
GENERATED_PASSWORD = "generated-person-password"
BATCH_SIZE = 5_000


# --- The plan: what a scale means ---------------------------------------------------------------


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
    * 100,000 people; 1,320 staff memberships; 120 moderators, coordinators and facilitators.

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
    def for_scale(cls, scale: float) -> GenerationPlan:
        if scale <= 0:
            raise ValueError("The scale must be more than 0.")
        return cls(
            scale=scale,
            councils=_scaled(100, scale),
            trusts=_scaled(40, scale),
            charities=_scaled(240, scale),
            users=_scaled(100_000, scale, minimum=10),
            moderators=_scaled(20, scale),
            coordinators=_scaled(50, scale),
            facilitators=_scaled(50, scale),
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


# --- The registry of steps ---------------------------------------------------------------------


@dataclass
class GenerateContext:
    """What every step can read: the plan, a seeded random source, the time the run started,
    and the ids earlier steps created (``ids["users"]``, ``ids["services"]`` …)."""

    plan: GenerationPlan
    rng: random.Random
    now: datetime
    ids: dict[str, Sequence[int]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GeneratorStep:
    name: str
    order: int
    run: Callable[[GenerateContext], int]
    reset: Callable[[], int] | None = None


@dataclass(frozen=True)
class StepTiming:
    name: str
    rows: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


_STEPS: dict[str, GeneratorStep] = {}


def generator_step(
    name: str, *, order: int, reset: Callable[[], int] | None = None
) -> Callable[[Callable[[GenerateContext], int]], Callable[[GenerateContext], int]]:
    """Register a step: ``run(ctx)`` writes rows and returns how many; ``reset()`` deletes
    the rows earlier runs generated and returns how many.  Registering a name again replaces
    the step (so a module can be reloaded)."""

    def register(run: Callable[[GenerateContext], int]) -> Callable[[GenerateContext], int]:
        _STEPS[name] = GeneratorStep(name=name, order=order, run=run, reset=reset)
        return run

    return register


def generator_steps() -> list[GeneratorStep]:
    """Every registered step, in the order they run; each app's ``generate`` module is
    imported first so that its steps are registered."""
    autodiscover_modules("generate")
    return sorted(_STEPS.values(), key=lambda step: (step.order, step.name))


# --- Writing rows fast -------------------------------------------------------------------------


def _chunks(rows: Iterable[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _copy_defaults(model: type[models.Model], columns: Sequence[str], now: datetime
                   ) -> tuple[list[str], tuple[Any, ...]]:
    """The columns a COPY must fill that the step did not give, with their values.

    COPY bypasses Django, so Python-side defaults (``default=``, ``auto_now``) would be lost;
    filling them here keeps a field added later by a module from breaking the generator."""
    given = set(columns)
    names: list[str] = []
    values: list[Any] = []
    for model_field in model._meta.concrete_fields:
        if model_field.attname in given or model_field.name in given:
            continue
        if model_field.primary_key or getattr(model_field, "db_default", models.NOT_PROVIDED) \
                is not models.NOT_PROVIDED:
            continue  # the database fills these
        if getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
            value: Any = now
        else:
            value = model_field.get_default()
        names.append(str(model_field.column))
        values.append(model_field.get_db_prep_save(value, connection))
    return names, tuple(values)


def bulk_insert(model: type[models.Model], columns: Sequence[str],
                rows: Iterable[tuple[Any, ...]]) -> int:
    """Insert ``rows`` (tuples in the order of ``columns``, which are attribute names such as
    ``parent_id``) and return how many were written.

    On PostgreSQL this is one ``COPY … FROM STDIN``; elsewhere ``bulk_create`` in batches of
    ``BATCH_SIZE``.  Rows may be a generator: they are never all held in memory at once.
    Values must already be what the database stores (no field conversion beyond psycopg's
    own adaptation of str, int, bool, Decimal, datetime and None)."""
    if connection.vendor == "postgresql":
        meta = model._meta
        column_names = [str(getattr(meta.get_field(name), "column", name)) for name in columns]
        extra_names, extra_values = _copy_defaults(model, columns, timezone.now())
        quote = connection.ops.quote_name
        sql = (
            f"COPY {quote(str(meta.db_table))} "
            f"({', '.join(quote(c) for c in [*column_names, *extra_names])}) FROM STDIN"
        )
        count = 0
        # Django's cursor wraps psycopg's; COPY needs psycopg's own (``cursor.cursor``).
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            if extra_values:
                for row in rows:
                    copy.write_row(row + extra_values)
                    count += 1
            else:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        return count
    count = 0
    for chunk in _chunks(rows, BATCH_SIZE):
        model._default_manager.bulk_create(
            [model(**dict(zip(columns, row, strict=True))) for row in chunk], batch_size=BATCH_SIZE
        )
        count += len(chunk)
    return count


def next_id(model: type[models.Model]) -> int:
    """The first id after every existing row of ``model``."""
    return (model._default_manager.aggregate(top=Max("pk"))["top"] or 0) + 1


def reset_sequences(*model_classes: type[models.Model]) -> None:
    """Move the id sequences past the ids the generator wrote itself (PostgreSQL only:
    SQLite takes the largest id + 1 on its own)."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_classes))
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def delete_fast(queryset: models.QuerySet[Any]) -> int:
    """Delete the rows of ``queryset`` and what depends on them, as Django would, but with
    one statement per relation using a subquery instead of loading every row and sending
    lists of ids; returns the number of rows deleted.

    ``QuerySet.delete()`` reads all 100,000 generated people into memory and then sends an
    ``IN (…100,000 ids…)`` list per related table: about 20 seconds.  This does the same
    work in about one.  Relations that are not CASCADE, SET_NULL or DO_NOTHING (PROTECT,
    RESTRICT…), or a model with delete signals, fall back to ``QuerySet.delete()``."""
    model = queryset.model
    relations = [
        rel for rel in model._meta.get_fields(include_hidden=True)
        if rel.auto_created and not rel.concrete and (rel.one_to_one or rel.one_to_many)
    ]
    handled = (models.CASCADE, models.SET_NULL, models.DO_NOTHING)
    if any(getattr(rel, "on_delete", None) not in handled for rel in relations) or any(
        signal.has_listeners(model) for signal in (signals.pre_delete, signals.post_delete)
    ):
        return queryset.delete()[0]
    ids = queryset.values("pk")
    deleted = 0
    for rel in relations:
        related_model = rel.related_model
        assert related_model is not None
        assert not isinstance(related_model, str)
        fk_name = rel.field.name  # type: ignore[union-attr]
        dependents = related_model._base_manager.filter(**{f"{fk_name}__in": ids})
        on_delete = getattr(rel, "on_delete", None)
        if on_delete is models.CASCADE:
            deleted += delete_fast(dependents)
        elif on_delete is models.SET_NULL:
            dependents.update(**{fk_name: None})
    # Everything that pointed at these rows has been dealt with above, so the rows can go in
    # one statement (the same private call Django's own deletion collector ends with).
    return deleted + queryset._raw_delete(queryset.db)


def _analyse(tables: Iterable[str]) -> None:
    # Fresh statistics, so that the first queries after a big load get good plans.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in sorted(set(tables)):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
        elif connection.vendor == "sqlite":
            cursor.execute("ANALYZE")


# --- The fictional vocabulary -------------------------------------------------------------------

PLACE_STARTS = [
    "Ash", "Bram", "Bright", "Brook", "Carr", "Cold", "Elm", "Fair", "Fern", "Hart", "Hazel",
    "High", "Kings", "Lang", "Lark", "Long", "Mar", "Mill", "North", "Oak", "Pen", "Red",
    "Rush", "Sand", "Stan", "Stone", "Sud", "Thorn", "Wake", "West", "Whit", "Wick", "Wil",
    "Wood", "Wyn", "Yar",
]
PLACE_ENDS = [
    "bury", "by", "combe", "cott", "dale", "den", "field", "ford", "gate", "ham", "holm",
    "hurst", "ington", "leigh", "ley", "mere", "minster", "mouth", "stead", "stow", "thorpe",
    "ton", "wick", "worth",
]
COUNCIL_KINDS = ["Borough Council", "District Council", "City Council", "County Council",
                 "Metropolitan Borough Council"]

# Directorate → team → services (name, LGSL id or None).  Every LGSL id here was checked
# against the published Local Government Service List.
COUNCIL_STRUCTURE: dict[str, dict[str, list[tuple[str, int | None]]]] = {
    "Environment and Neighbourhoods": {
        "Waste and Recycling": [("Household waste collection", 524),
                                ("Bulky household waste collections", 528),
                                ("Garden waste collection", 530), ("Food waste recycling", 1423),
                                ("Recycling centres", 534)],
        "Street Services": [("Street cleaning", 582), ("Fly-tipping", 587),
                            ("Graffiti removal", 584), ("Dog fouling", 577)],
        "Environmental Health": [("Noise pollution", 412), ("Pest control", 431),
                                 ("Air quality", 413)],
        "Parks and Open Spaces": [("Parks and open spaces", 461), ("Allotments", 510),
                                  ("Tree preservation orders", 508)],
    },
    "Adults and Health": {
        "Adult Social Care": [("Occupational therapy", 180), ("Meals at home", 315)],
        "Carers Support": [("Carers assessment", 1755), ("Support for adult carers", 225)],
        "Telecare": [("Community alarms and telecare", 313), ("Telecare advice line", None)],
        "Hospital Discharge": [("Help to get home from hospital", None),
                               ("Short-term care at home", None)],
    },
    "Housing": {
        "Housing Options": [("Homelessness support", 112), ("Housing advice", None)],
        "Housing Repairs": [("Housing repairs", 141), ("Damp and mould reports", None)],
        "Housing Benefit": [("Housing benefit new claim", 69), ("Housing benefit appeals", 72)],
        "Tenancy Services": [("Tenancy sign-up", None), ("Estate inspections", None)],
    },
    "Resources": {
        "Council Tax": [("Council tax account enquiries", 58), ("Council tax appeals", 1763)],
        "Registrars": [("Birth registration", 319), ("Death registration", 321),
                       ("Citizenship ceremonies", 852)],
        "Electoral Services": [("Electoral register", 364), ("Postal votes", None)],
        "Customer Services": [("Contact centre", None), ("Complaints", None)],
    },
    "Communities": {
        "Libraries": [("Joining a library", 438), ("Library facilities", 437),
                      ("Mobile libraries", 444)],
        "Leisure": [("Swimming pools", 1674), ("Community centres", 1149)],
        "Arts and Heritage": [("Arts development", 884), ("Archives", 448)],
        "Adult Learning": [("Adult education courses", 27), ("Digital skills sessions", None)],
    },
    "Children and Education": {
        "School Admissions": [("Primary school places", 13), ("School admission appeals", 705)],
        "Early Years": [("Nursery school places", 12), ("Free school meals", 4)],
        "Fostering and Adoption": [("Fostering", 159), ("Adoption", 160)],
        "Youth Services": [("Youth clubs", None), ("Advice for young people", None)],
    },
    "Planning and Transport": {
        "Planning": [("Full planning applications", 487), ("Building control", 499)],
        "Parking": [("Parking permits", 474), ("Abandoned vehicles", 372)],
        "Highways": [("Road maintenance", 557), ("Street lighting", 564)],
        "Road Safety": [("School crossing patrols", None), ("Road safety education", None)],
    },
}
HOSPITAL_KINDS = ["General Hospital", "Community Hospital", "University Hospital",
                  "Infirmary", "Royal Hospital"]
DEPARTMENTS: dict[str, list[str]] = {
    "Emergency department": ["Accident and emergency", "Urgent treatment centre"],
    "Maternity unit": ["Antenatal clinic", "Labour ward", "Postnatal care"],
    "Outpatients": ["Fracture clinic", "Diabetes clinic", "Eye clinic", "Hearing clinic"],
    "Children's services": ["Children's ward", "Neonatal unit"],
    "Cardiology": ["Heart failure clinic", "Cardiac rehabilitation"],
    "Oncology": ["Chemotherapy day unit", "Cancer information centre"],
    "Elderly care": ["Frailty unit", "Memory clinic"],
    "Surgery": ["Day surgery unit", "Pre-operative assessment"],
    "Radiology": ["X-ray", "MRI and CT scanning"],
    "Mental health": ["Crisis team", "Talking therapies"],
}
CHARITY_THEMES = [
    ("Carers' Centre", "Support for Carers"), ("Age Concern", "Befriending"),
    ("Food Bank", "Emergency food parcels"), ("Citizens' Advice", "Debt and benefits advice"),
    ("Mind", "Wellbeing drop-in"), ("Home-Start", "Family support visits"),
    ("Community Transport", "Door-to-door minibus"), ("Hospice", "Hospice at home"),
]
FIRST_NAMES = [
    "Aisha", "Alan", "Amir", "Ana", "Bronwen", "Callum", "Chloe", "Dafydd", "Deepa", "Eilidh",
    "Emeka", "Fatima", "Gareth", "Grace", "Hannah", "Ian", "Jack", "Jasmine", "Kwame", "Laura",
    "Leon", "Mared", "Mohammed", "Niamh", "Olu", "Patrick", "Priya", "Rhys", "Ruth", "Sana",
    "Siân", "Tariq", "Tom", "Ursula", "Wei", "Yusuf", "Zofia",
]


def _place(rng: random.Random) -> str:
    return rng.choice(PLACE_STARTS) + rng.choice(PLACE_ENDS)


def _slugify(text: str) -> str:
    out = []
    for char in text.lower():
        out.append(char if char.isascii() and char.isalnum() else "-")
    return "-".join(part for part in "".join(out).split("-") if part)


def _base36(value: int, width: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while value:
        value, rem = divmod(value, 36)
        out = digits[rem] + out
    if len(out) > width:
        raise ValueError(f"{value} does not fit {width} base-36 digits")
    return out.rjust(width, "0")


def _ods(org_id: int) -> str:
    # "Z" and five base-36 digits from the id: unique, valid, and easy to tell apart.
    return "Z" + _base36(org_id, 5)


def _postcode(rng: random.Random) -> str:
    # The ZZ postcode area does not exist, so no generated address is anyone's real one.
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return f"ZZ{rng.randint(1, 99)} {rng.randint(0, 9)}{rng.choice(letters)}{rng.choice(letters)}"


def _phone(rng: random.Random) -> str:
    # Ofcom's range for drama: 020 7946 0000 to 0999.
    return f"020 7946 0{rng.randint(0, 999):03d}"


def _coordinates(rng: random.Random) -> tuple[Decimal, Decimal]:
    lat = Decimal(rng.uniform(50.5, 55.5)).quantize(Decimal("0.000001"))
    lon = Decimal(rng.uniform(-4.5, 1.5)).quantize(Decimal("0.000001"))
    return lat, lon


def _segment(pk: int) -> str:
    return f"{pk:0{PATH_SEGMENT}d}."


# --- Steps for accounts and the directory -------------------------------------------------------


def _generated_areas() -> Q:
    return Q(gss_code__startswith=GENERATED_DISTRICT_PREFIX) | Q(
        gss_code__startswith=GENERATED_WARD_PREFIX
    )


def areas_reset() -> int:
    return Area.objects.filter(_generated_areas()).delete()[0]


@generator_step("directory.areas", order=10, reset=areas_reset)
def areas_generate(ctx: GenerateContext) -> int:
    """A district and its wards for each council, with GSS codes in a range no real area uses."""
    first = next_id(Area)
    plan = ctx.plan
    if first + plan.areas > 100_000:
        raise ValueError("Too many areas for the generated GSS range; run with --reset first.")
    districts: list[int] = []
    rows: list[tuple[Any, ...]] = []
    pk = first
    for _ in range(plan.councils):
        place = _place(ctx.rng)
        districts.append(pk)
        rows.append((pk, f"{GENERATED_DISTRICT_PREFIX}{pk:05d}", place, "Local authority district"))
        pk += 1
        for ward in range(plan.WARDS_PER_COUNCIL):
            rows.append((pk, f"{GENERATED_WARD_PREFIX}{pk:05d}", f"{place} Ward {ward + 1}",
                         "Electoral ward"))
            pk += 1
    written = bulk_insert(Area, ["id", "gss_code", "name", "area_type"], rows)
    reset_sequences(Area)
    ctx.ids["areas"] = range(first, pk)
    ctx.ids["districts"] = districts
    return written


def organisations_reset() -> int:
    generated = Organisation.objects.filter(slug__startswith=GENERATED_SLUG_PREFIX)
    deleted = OrganisationMembership.objects.filter(organisation__in=generated).delete()[0]
    top = generated.aggregate(top=Max("depth"))["top"]
    # Parents are protected while they have children: delete the deepest level first.
    for depth in range(top if top is not None else -1, -1, -1):
        deleted += generated.filter(depth=depth).delete()[0]
    return deleted


ORG_COLUMNS = [
    "id", "name", "slug", "org_type", "parent_id", "path", "depth", "ods_code", "gss_code",
    "charity_number", "description", "website", "email", "phone", "address", "postcode",
    "latitude", "longitude", "is_private_provider", "created_at", "updated_at",
]


@generator_step("directory.organisations", order=20, reset=organisations_reset)
def organisations_generate(ctx: GenerateContext) -> int:
    """Councils, NHS trusts and charities as trees, with paths and depths computed here from
    the precomputed ids, and the areas each one serves."""
    rng, plan, now = ctx.rng, ctx.plan, ctx.now
    first = next_id(Organisation)
    districts = list(ctx.ids.get("districts", []))
    pk = first
    rows: list[tuple[Any, ...]] = []
    served: list[tuple[int, int]] = []
    # (organisation id, catalogue entry) for the services step.
    teams: list[tuple[int, str, list[tuple[str, int | None]]]] = []
    departments: list[tuple[int, str, list[str]]] = []
    charities: list[tuple[int, str, str]] = []
    roots: dict[str, list[int]] = {"councils": [], "trusts": [], "charities": [],
                                   "directorates": [], "hospitals": []}
    # Top-level organisation id → its directorates or hospitals, for the staff step.
    second_level: dict[int, list[int]] = {}

    def add(name: str, org_type: str, parent: tuple[int, str, int] | None, *,
            ods: bool = False, gss: str | None = None, charity: str = "") -> tuple[int, str, int]:
        nonlocal pk
        org_id = pk
        pk += 1
        path = (parent[1] if parent else "") + _segment(org_id)
        depth = parent[2] + 1 if parent else 0
        slug = f"{GENERATED_SLUG_PREFIX}{_slugify(name)}-{org_id}"
        lat, lon = _coordinates(rng)
        rows.append((
            org_id, name, slug, org_type, parent[0] if parent else None, path, depth,
            _ods(org_id) if ods else None, gss, charity,
            f"{name} is a fictional organisation generated for testing.",
            f"https://{slug}.example.org", f"contact@{slug}.example.org", _phone(rng),
            f"{rng.randint(1, 200)} {rng.choice(PLACE_STARTS)} Street", _postcode(rng),
            lat, lon, False, now, now,
        ))
        return org_id, path, depth

    directorate_names = list(COUNCIL_STRUCTURE)
    for index in range(plan.councils):
        district = districts[index] if index < len(districts) else None
        place = _place(rng)
        council = add(f"{place} {rng.choice(COUNCIL_KINDS)}", OrganisationType.COUNCIL, None,
                      gss=f"{GENERATED_DISTRICT_PREFIX}{district:05d}" if district else None)
        roots["councils"].append(council[0])
        if district:
            served.append((council[0], district))
        for directorate_name in rng.sample(directorate_names, plan.DIRECTORATES_PER_COUNCIL):
            directorate = add(f"{place} {directorate_name}", OrganisationType.DIRECTORATE, council)
            roots["directorates"].append(directorate[0])
            second_level.setdefault(council[0], []).append(directorate[0])
            catalogue = COUNCIL_STRUCTURE[directorate_name]
            for team_name in list(catalogue)[: plan.TEAMS_PER_DIRECTORATE]:
                team = add(f"{place} {team_name}", OrganisationType.SERVICE_TEAM, directorate)
                teams.append((team[0], place, catalogue[team_name]))
    department_names = list(DEPARTMENTS)
    for _ in range(plan.trusts):
        place = _place(rng)
        trust = add(f"{place} and {_place(rng)} NHS Trust", OrganisationType.NHS_TRUST, None,
                    ods=True)
        roots["trusts"].append(trust[0])
        for district in rng.sample(districts, min(plan.AREAS_PER_TRUST, len(districts))):
            served.append((trust[0], district))
        for _h in range(plan.HOSPITALS_PER_TRUST):
            hospital_name = f"{_place(rng)} {rng.choice(HOSPITAL_KINDS)}"
            hospital = add(hospital_name, OrganisationType.HOSPITAL, trust, ods=True)
            roots["hospitals"].append(hospital[0])
            second_level.setdefault(trust[0], []).append(hospital[0])
            for department_name in rng.sample(department_names, plan.DEPARTMENTS_PER_HOSPITAL):
                department = add(f"{hospital_name} {department_name}",
                                 OrganisationType.DEPARTMENT, hospital)
                departments.append((department[0], hospital_name, DEPARTMENTS[department_name]))
    for _ in range(plan.charities):
        place = _place(rng)
        theme, service_name = rng.choice(CHARITY_THEMES)
        charity = add(f"{place} {theme}", OrganisationType.CHARITY, None,
                      charity=str(1_100_000 + rng.randint(0, 899_999)))
        roots["charities"].append(charity[0])
        charities.append((charity[0], place, service_name))
        if districts:
            served.append((charity[0], rng.choice(districts)))

    written = bulk_insert(Organisation, ORG_COLUMNS, rows)
    through = Organisation.areas_served.through
    written += bulk_insert(through, ["organisation_id", "area_id"], served)
    reset_sequences(Organisation, through)
    ctx.ids["organisations"] = range(first, pk)
    ctx.ids.update(roots)
    ctx.extra["teams"], ctx.extra["departments"] = teams, departments
    ctx.extra["charity_services"] = charities
    ctx.extra["second_level"] = second_level
    return written


def services_reset() -> int:
    return delete_fast(Service.objects.filter(slug__startswith=GENERATED_SLUG_PREFIX))


SERVICE_COLUMNS = [
    "id", "organisation_id", "name", "slug", "description", "lgsl_id", "ods_code", "address",
    "postcode", "latitude", "longitude", "website", "phone", "is_active", "created_at",
    "updated_at",
]


@generator_step("directory.services", order=30, reset=services_reset)
def services_generate(ctx: GenerateContext) -> int:
    """Services for every service team, hospital department and charity; council services
    carry their LGSL id."""
    rng, plan, now = ctx.rng, ctx.plan, ctx.now
    first = next_id(Service)

    def rows() -> Iterator[tuple[Any, ...]]:
        pk = first
        offered: list[tuple[int, str, str, int | None]] = []
        for org_id, place, catalogue in ctx.extra.get("teams", []):
            for name, lgsl in rng.sample(catalogue, plan.SERVICES_PER_TEAM):
                offered.append((org_id, f"{name} in {place}", name, lgsl))
        for org_id, hospital, names in ctx.extra.get("departments", []):
            for name in rng.sample(names, plan.SERVICES_PER_DEPARTMENT):
                offered.append((org_id, f"{name}, {hospital}", name, None))
        for org_id, place, name in ctx.extra.get("charity_services", []):
            offered.append((org_id, f"{name} in {place}", name, None))
        for org_id, title, kind, lgsl in offered:
            slug = f"{GENERATED_SLUG_PREFIX}{_slugify(title)}-{pk}"
            lat, lon = _coordinates(rng)
            yield (
                pk, org_id, title, slug,
                f"{kind}: a fictional service generated for testing.", lgsl, None,
                f"{rng.randint(1, 200)} {rng.choice(PLACE_STARTS)} Road", _postcode(rng),
                lat, lon, f"https://{slug}.example.org", _phone(rng), True, now, now,
            )
            pk += 1

    written = bulk_insert(Service, SERVICE_COLUMNS, rows())
    reset_sequences(Service)
    ctx.ids["services"] = range(first, first + written)
    return written


def _generated_users() -> Q:
    return Q(email__endswith=f"@{GENERATED_EMAIL_DOMAIN}")


def users_reset() -> int:
    return delete_fast(User.objects.filter(_generated_users()))


def _password_hash() -> str:
    # Argon2 is slow by design (tens of milliseconds a hash), which is what protects real
    # passwords; hashing once and sharing the result lets a million fictional people be
    # written in seconds instead of hours.
    return make_password(GENERATED_PASSWORD)


USER_COLUMNS = [
    "id", "password", "last_login", "is_superuser", "email", "display_name",
    "email_verified_at", "is_active", "is_staff", "date_joined", "erased_at",
    "preferred_language",
]


@generator_step("accounts.users", order=40, reset=users_reset)
def users_generate(ctx: GenerateContext) -> int:
    """People, all verified, all with the one shared password, joined over the last 3 years."""
    rng, now = ctx.rng, ctx.now
    first = next_id(User)
    password = _password_hash()
    initials = "ABCDEFGHJKLMNOPRSTW"
    # A few hundred distinct join times are enough and keep the row loop cheap.
    joined = [now - timedelta(days=rng.randint(0, 3 * 365), seconds=rng.randint(0, 86_399))
              for _ in range(512)]
    names = [f"{first_name} {initial}." for first_name in FIRST_NAMES for initial in initials]

    def rows() -> Iterator[tuple[Any, ...]]:
        for pk in range(first, first + ctx.plan.users):
            when = joined[pk % 512]
            yield (pk, password, None, False, f"person{pk}@{GENERATED_EMAIL_DOMAIN}",
                   names[pk % len(names)], when, True, False, when, None, "")

    written = bulk_insert(User, USER_COLUMNS, rows())
    reset_sequences(User)
    ctx.ids["users"] = range(first, first + written)
    return written


def memberships_reset() -> int:
    return OrganisationMembership.objects.filter(
        Q(user__email__endswith=f"@{GENERATED_EMAIL_DOMAIN}")
        | Q(organisation__slug__startswith=GENERATED_SLUG_PREFIX)
    ).delete()[0]


@generator_step("directory.memberships", order=50, reset=memberships_reset)
def memberships_generate(ctx: GenerateContext) -> int:
    """Staff for each council, trust and charity, taken from the first generated people."""
    users = ctx.ids["users"]
    now = ctx.now
    children: dict[int, list[int]] = ctx.extra["second_level"]
    directorates = set(ctx.ids["directorates"])
    wanted: list[tuple[int, str, str]] = []
    for root in [*ctx.ids["councils"], *ctx.ids["trusts"]]:
        wanted += [(root, StaffRole.ADMINISTRATOR, "Head of customer experience"),
                   (root, StaffRole.RESPONDER, "Complaints officer"),
                   (root, StaffRole.RESPONDER, "Patient and public liaison")]
        for child in children.get(root, []):
            role = StaffRole.MEMBER if child in directorates else StaffRole.RESPONDER
            wanted.append((child, role, "Service manager"))
    wanted += [(root, StaffRole.ADMINISTRATOR, "Volunteer coordinator")
               for root in ctx.ids["charities"]]
    rows = ((users[index % len(users)], org, role, title, now)
            for index, (org, role, title) in enumerate(wanted))
    return bulk_insert(
        OrganisationMembership, ["user_id", "organisation_id", "role", "job_title", "created_at"],
        rows,
    )


def role_grants_reset() -> int:
    return RoleGrant.objects.filter(user__email__endswith=f"@{GENERATED_EMAIL_DOMAIN}").delete()[0]


@generator_step("accounts.role_grants", order=60, reset=role_grants_reset)
def role_grants_generate(ctx: GenerateContext) -> int:
    """Moderators, circle coordinators and community facilitators, from the people after the
    organisation staff."""
    users = ctx.ids["users"]
    plan = ctx.plan
    start = plan.memberships
    rows: list[tuple[Any, ...]] = []
    for role, count in ((SiteRole.MODERATOR, plan.moderators),
                        (SiteRole.CIRCLE_COORDINATOR, plan.coordinators),
                        (SiteRole.COMMUNITY_FACILITATOR, plan.facilitators)):
        for index in range(min(count, len(users))):
            rows.append((users[(start + index) % len(users)], role, ctx.now))
    return bulk_insert(RoleGrant, ["user_id", "role", "granted_at"], rows)


# --- Running ---------------------------------------------------------------------------------


def _timed(name: str, rows: int, started: float, timings: list[StepTiming],
           report: Callable[[StepTiming], None] | None) -> None:
    timing = StepTiming(name, rows, time.perf_counter() - started)
    timings.append(timing)
    if report:
        report(timing)


def generated_reset(*, report: Callable[[StepTiming], None] | None = None) -> list[StepTiming]:
    """Delete every generated row, step by step in reverse order, in one transaction;
    return the timings (the commit is timed on its own: on PostgreSQL the foreign-key checks
    of the deleted rows run then)."""
    timings: list[StepTiming] = []
    with transaction.atomic():
        for step in reversed(generator_steps()):
            if step.reset is None:
                continue
            started = time.perf_counter()
            _timed(f"reset {step.name}", step.reset(), started, timings, report)
        started = time.perf_counter()
    _timed("reset commit", 0, started, timings, report)
    return timings


def generate(*, scale: float, seed: int = 1, reset: bool = False,
             report: Callable[[StepTiming], None] | None = None) -> list[StepTiming]:
    """Generate the dataset for ``scale`` (after deleting earlier generated rows if ``reset``)
    and return how long each step took.

    All the steps run in one transaction: a failure leaves the database as it was.  Tables
    are analysed afterwards so the planner knows their new sizes."""
    timings: list[StepTiming] = []
    if reset:
        timings += generated_reset(report=report)
    plan = GenerationPlan.for_scale(scale)
    ctx = GenerateContext(plan=plan, rng=random.Random(seed), now=timezone.now())
    steps = generator_steps()
    with transaction.atomic():
        for step in steps:
            started = time.perf_counter()
            _timed(step.name, step.run(ctx), started, timings, report)
        started = time.perf_counter()
    _timed("commit", 0, started, timings, report)
    started = time.perf_counter()
    tables = [model._meta.db_table for model in (Area, Organisation, Service, User,
                                                 OrganisationMembership, RoleGrant)]
    tables.append(Organisation.areas_served.through._meta.db_table)
    tables += ctx.extra.get("analyse_tables", [])
    _analyse(tables)
    _timed("analyse", 0, started, timings, report)
    return timings
