"""The generator's steps for the directory and accounts: areas, organisation trees, services,
people, staff and site roles."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db.models import Max, Q

from localsocial.accounts.models import RoleGrant, SiteRole, User
from localsocial.core.generate.engine import (
    GenerateContext,
    bulk_insert,
    delete_fast,
    generator_step,
    next_id,
    reset_sequences,
)
from localsocial.core.generate.vocabulary import (
    CHARITY_THEMES,
    COUNCIL_KINDS,
    COUNCIL_STRUCTURE,
    DEPARTMENTS,
    FIRST_NAMES,
    HOSPITAL_KINDS,
    PLACE_STARTS,
    coordinates_in_britain,
    fictional_ods_code,
    fictional_phone,
    fictional_postcode,
    path_segment,
    place_name,
    slug_part,
)
from localsocial.directory.models import (
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
        place = place_name(ctx.rng)
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
        path = (parent[1] if parent else "") + path_segment(org_id)
        depth = parent[2] + 1 if parent else 0
        slug = f"{GENERATED_SLUG_PREFIX}{slug_part(name)}-{org_id}"
        lat, lon = coordinates_in_britain(rng)
        rows.append((
            org_id, name, slug, org_type, parent[0] if parent else None, path, depth,
            fictional_ods_code(org_id) if ods else None, gss, charity,
            f"{name} is a fictional organisation generated for testing.",
            f"https://{slug}.example.org", f"contact@{slug}.example.org", fictional_phone(rng),
            f"{rng.randint(1, 200)} {rng.choice(PLACE_STARTS)} Street", fictional_postcode(rng),
            lat, lon, False, now, now,
        ))
        return org_id, path, depth

    directorate_names = list(COUNCIL_STRUCTURE)
    for index in range(plan.councils):
        district = districts[index] if index < len(districts) else None
        place = place_name(rng)
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
        place = place_name(rng)
        trust = add(f"{place} and {place_name(rng)} NHS Trust", OrganisationType.NHS_TRUST, None,
                    ods=True)
        roots["trusts"].append(trust[0])
        for district in rng.sample(districts, min(plan.AREAS_PER_TRUST, len(districts))):
            served.append((trust[0], district))
        for _h in range(plan.HOSPITALS_PER_TRUST):
            hospital_name = f"{place_name(rng)} {rng.choice(HOSPITAL_KINDS)}"
            hospital = add(hospital_name, OrganisationType.HOSPITAL, trust, ods=True)
            roots["hospitals"].append(hospital[0])
            second_level.setdefault(trust[0], []).append(hospital[0])
            for department_name in rng.sample(department_names, plan.DEPARTMENTS_PER_HOSPITAL):
                department = add(f"{hospital_name} {department_name}",
                                 OrganisationType.DEPARTMENT, hospital)
                departments.append((department[0], hospital_name, DEPARTMENTS[department_name]))
    for _ in range(plan.charities):
        place = place_name(rng)
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
            slug = f"{GENERATED_SLUG_PREFIX}{slug_part(title)}-{pk}"
            lat, lon = coordinates_in_britain(rng)
            yield (
                pk, org_id, title, slug,
                f"{kind}: a fictional service generated for testing.", lgsl, None,
                f"{rng.randint(1, 200)} {rng.choice(PLACE_STARTS)} Road", fictional_postcode(rng),
                lat, lon, f"https://{slug}.example.org", fictional_phone(rng), True, now, now,
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
