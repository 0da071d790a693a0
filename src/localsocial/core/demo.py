"""The platform's demo: a small, fictional but plausible directory and one person for every role.

Registered as demo steps (``core/demo_registry.py``), like every module's own demo in its
``demo.py``; ``localsocial demo`` runs them all in order.

Everything here is made up except the identifier *formats* and the Local Government Service
List ids, which are the real LGSL ids of the services named (checked against the LGSL as
published by LG Inform Plus).  The councils, the NHS trust and their GSS and ODS codes are
fictional: the codes sit in ranges that no real body used when this was written (GSS
instance numbers in the 9xx range, ODS trust code R9X), and the phone numbers are in Ofcom's
ranges reserved for drama.  The few real codes used are for places, not bodies: England,
Wales and the London region.

Each step is idempotent: it creates what is missing and leaves what exists alone, so a
second run changes nothing.  The one exception is deliberate: a demo backup code that has been
used is put back, so that the printed codes keep working.
"""

from __future__ import annotations

import hashlib
from base64 import b32encode
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.hashers import make_password
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from localsocial.accounts.models import RoleGrant, SiteRole, User
from localsocial.accounts.selectors import BACKUP_DEVICE_NAME
from localsocial.core.demo_registry import DEMO_PASSWORD, DemoAccount, DemoContext, demo_step
from localsocial.directory.models import (
    Area,
    Organisation,
    OrganisationType,
    Service,
    StaffRole,
)
from localsocial.directory.services import membership_add, organisation_create, service_create

DEMO_EMAIL_DOMAIN = "demo.invalid"
BACKUP_CODES_PER_PERSON = 5

AREAS: list[tuple[str, str, str]] = [
    # (GSS code, name, type).  The first three are real ONS codes; the rest are fictional.
    ("E92000001", "England", "Country"),
    ("W92000004", "Wales", "Country"),
    ("E12000007", "London", "Region"),
    ("E09000901", "Northgate", "London borough"),
    ("E05090001", "Northgate Central", "Electoral ward"),
    ("E05090002", "Riverside", "Electoral ward"),
    ("E05090003", "Elm Park", "Electoral ward"),
    ("W06000901", "Bro Gwyn", "Principal area"),
    ("W05009001", "Llanfair Teg", "Electoral ward"),
    ("W05009002", "Aberhonddu Isaf", "Electoral ward"),
]


@dataclass(frozen=True)
class ServiceSpec:
    slug: str
    name: str
    description: str
    lgsl_id: int | None = None


@dataclass(frozen=True)
class OrgSpec:
    slug: str
    name: str
    org_type: str
    description: str = ""
    gss_code: str | None = None
    ods_code: str | None = None
    phone: str = ""
    website: str = ""
    areas: tuple[str, ...] = ()
    services: tuple[ServiceSpec, ...] = ()
    children: tuple[OrgSpec, ...] = ()


def _team(council: str, slug: str, name: str, services: list[tuple[str, str, int, str]],
          phone: str) -> OrgSpec:
    return OrgSpec(
        slug=f"{council}-{slug}", name=name, org_type=OrganisationType.SERVICE_TEAM, phone=phone,
        services=tuple(
            ServiceSpec(slug=f"{council}-{s_slug}", name=s_name, lgsl_id=lgsl, description=text)
            for s_slug, s_name, lgsl, text in services
        ),
    )


NORTHGATE = OrgSpec(
    slug="london-borough-of-northgate",
    name="London Borough of Northgate",
    org_type=OrganisationType.COUNCIL,
    description="The council for Northgate, a fictional borough in north-east London.",
    gss_code="E09000901",
    phone="020 7946 0100",
    website="https://northgate.example.org",
    areas=("E09000901",),
    children=(
        OrgSpec(
            slug="northgate-environment-and-neighbourhoods",
            name="Environment and Neighbourhoods",
            org_type=OrganisationType.DIRECTORATE,
            description="Bins, streets, parks and the places people share.",
            children=(
                _team("northgate", "waste-and-recycling", "Waste and Recycling", [
                    ("household-waste-collection", "Household waste collection", 524,
                     "Weekly collection of general rubbish from homes."),
                    ("bulky-waste-collection", "Bulky household waste collections", 528,
                     "Collection of large items such as sofas and fridges, for a fee."),
                    ("garden-waste", "Garden waste collection", 530,
                     "A fortnightly green bin for grass, leaves and cuttings."),
                    ("food-waste-recycling", "Food waste recycling", 1423,
                     "A weekly caddy collection of food scraps."),
                ], "020 7946 0110"),
                _team("northgate", "street-services", "Street Services", [
                    ("street-cleaning", "Street cleaning", 582,
                     "Sweeping, litter picking and clearing spills from streets."),
                    ("flytipping", "Fly-tipping", 587,
                     "Reporting and clearing rubbish dumped illegally."),
                    ("street-lighting", "Street lighting", 564,
                     "Repairs to street lights that are out or flickering."),
                ], "020 7946 0120"),
            ),
        ),
        OrgSpec(
            slug="northgate-adults-and-housing",
            name="Adults and Housing",
            org_type=OrganisationType.DIRECTORATE,
            description="Care and support for adults, and help with a home.",
            children=(
                _team("northgate", "adult-social-care", "Adult Social Care", [
                    ("carers-assessment", "Carers assessment", 1755,
                     "A conversation about the support an unpaid carer needs."),
                    ("community-alarms", "Community alarms and telecare", 313,
                     "Alarms and sensors that call for help at home."),
                    ("occupational-therapy", "Occupational therapy", 180,
                     "Advice and equipment to stay independent at home."),
                ], "020 7946 0130"),
                _team("northgate", "housing-options", "Housing Options", [
                    ("homelessness-support", "Homelessness support", 112,
                     "Help for people who are homeless or about to lose their home."),
                ], "020 7946 0140"),
            ),
        ),
        OrgSpec(
            slug="northgate-resources",
            name="Resources",
            org_type=OrganisationType.DIRECTORATE,
            description="Council tax, benefits, libraries and registrars.",
            children=(
                _team("northgate", "revenues-and-benefits", "Revenues and Benefits", [
                    ("council-tax", "Council tax account enquiries", 58,
                     "Questions about a council tax bill, discount or payment."),
                    ("housing-benefit", "Housing benefit new claim", 69,
                     "Claiming help to pay rent."),
                ], "020 7946 0150"),
                _team("northgate", "libraries", "Libraries", [
                    ("joining-a-library", "Joining a library", 438,
                     "Free library membership for anyone who lives, works or studies here."),
                    ("library-facilities", "Library facilities", 437,
                     "Computers, study space, printing and meeting rooms."),
                ], "020 7946 0160"),
                _team("northgate", "registrars", "Registrars", [
                    ("birth-registration", "Birth registration", 319,
                     "Registering a baby's birth within 42 days."),
                    ("death-registration", "Death registration", 321,
                     "Registering a death and getting the documents needed."),
                ], "020 7946 0170"),
            ),
        ),
    ),
)

BRO_GWYN = OrgSpec(
    slug="bro-gwyn-county-council",
    name="Bro Gwyn County Council",
    org_type=OrganisationType.COUNCIL,
    description="Cyngor Sir Bro Gwyn: the council for a fictional rural county in mid Wales.",
    gss_code="W06000901",
    phone="029 2018 0100",
    website="https://brogwyn.example.org",
    areas=("W06000901",),
    children=(
        OrgSpec(
            slug="bro-gwyn-place",
            name="Place",
            org_type=OrganisationType.DIRECTORATE,
            description="Waste, highways and the county's roads.",
            children=(
                _team("bro-gwyn", "waste-and-recycling", "Waste and Recycling", [
                    ("household-waste-collection", "Household waste collection", 524,
                     "Fortnightly collection of general rubbish from homes."),
                    ("garden-waste", "Garden waste collection", 530,
                     "A paid garden waste collection from March to November."),
                    ("recycling-sites", "Recycling centres", 534,
                     "Household recycling centres in Llanfair Teg and Aberhonddu."),
                ], "029 2018 0110"),
                _team("bro-gwyn", "highways", "Highways", [
                    ("road-maintenance", "Road maintenance", 557,
                     "Potholes, resurfacing and gritting on county roads."),
                    ("street-lighting", "Street lighting", 564,
                     "Repairs to street lights on county roads."),
                ], "029 2018 0120"),
            ),
        ),
        OrgSpec(
            slug="bro-gwyn-social-services",
            name="Social Services",
            org_type=OrganisationType.DIRECTORATE,
            description="Care and support for adults and children.",
            children=(
                _team("bro-gwyn", "adult-services", "Adult Services", [
                    ("carers-assessment", "Carers assessment", 1755,
                     "Support for people who look after a relative or friend."),
                    ("meals-at-home", "Meals at home", 315,
                     "Hot meals delivered to people who cannot easily cook."),
                ], "029 2018 0130"),
            ),
        ),
        OrgSpec(
            slug="bro-gwyn-communities",
            name="Communities",
            org_type=OrganisationType.DIRECTORATE,
            description="Libraries and community buildings.",
            children=(
                _team("bro-gwyn", "libraries", "Libraries", [
                    ("joining-a-library", "Joining a library", 438,
                     "Membership of Bro Gwyn's libraries, in Welsh or English."),
                    ("mobile-libraries", "Mobile libraries", 444,
                     "A library van that visits villages every three weeks."),
                ], "029 2018 0140"),
            ),
        ),
    ),
)


def _dept(slug: str, name: str, services: list[tuple[str, str, str]]) -> OrgSpec:
    return OrgSpec(
        slug=slug, name=name, org_type=OrganisationType.DEPARTMENT,
        services=tuple(ServiceSpec(slug=s, name=n, description=d) for s, n, d in services),
    )


TRUST = OrgSpec(
    slug="northgate-and-riverside-nhs-foundation-trust",
    name="Northgate and Riverside NHS Foundation Trust",
    org_type=OrganisationType.NHS_TRUST,
    description="A fictional acute and community trust serving Northgate and its neighbours.",
    ods_code="R9X",
    phone="020 7946 0500",
    website="https://northgate-riverside.nhs.example.org",
    areas=("E09000901", "E12000007"),
    children=(
        OrgSpec(
            slug="northgate-general-hospital",
            name="Northgate General Hospital",
            org_type=OrganisationType.HOSPITAL,
            ods_code="R9X01",
            phone="020 7946 0510",
            children=(
                _dept("northgate-general-emergency-department", "Emergency department", [
                    ("northgate-general-a-and-e", "Accident and emergency",
                     "Open all day, every day, for serious injuries and illness."),
                ]),
                _dept("northgate-general-maternity", "Maternity unit", [
                    ("northgate-general-antenatal-clinic", "Antenatal clinic",
                     "Check-ups and scans during pregnancy."),
                    ("northgate-general-labour-ward", "Labour ward",
                     "Care during labour and birth, with a midwife-led birth centre."),
                ]),
                _dept("northgate-general-outpatients", "Outpatients", [
                    ("northgate-general-fracture-clinic", "Fracture clinic",
                     "Follow-up care for broken bones."),
                    ("northgate-general-diabetes-clinic", "Diabetes clinic",
                     "Specialist support for people living with diabetes."),
                ]),
                _dept("northgate-general-childrens-ward", "Children's ward", [
                    ("northgate-general-paediatric-care", "Children's inpatient care",
                     "Care for children and young people who need to stay in hospital."),
                ]),
            ),
        ),
        OrgSpec(
            slug="riverside-community-hospital",
            name="Riverside Community Hospital",
            org_type=OrganisationType.HOSPITAL,
            ods_code="R9X02",
            phone="020 7946 0520",
            children=(
                _dept("riverside-minor-injuries-unit", "Minor injuries unit", [
                    ("riverside-minor-injuries", "Minor injuries treatment",
                     "Sprains, cuts and minor burns, 8am to 8pm."),
                ]),
                _dept("riverside-rehabilitation-ward", "Rehabilitation ward", [
                    ("riverside-stroke-rehabilitation", "Stroke rehabilitation",
                     "Therapy to help people recover after a stroke."),
                ]),
                _dept("riverside-memory-clinic", "Memory clinic", [
                    ("riverside-dementia-assessment", "Memory assessment",
                     "Assessment and support for people worried about their memory."),
                ]),
            ),
        ),
    ),
)

ORGANISATION_TREES: tuple[OrgSpec, ...] = (NORTHGATE, BRO_GWYN, TRUST)


@dataclass(frozen=True)
class PersonSpec:
    email: str
    display_name: str
    role_label: str
    site_role: str | None = None
    organisation_slug: str | None = None
    staff_role: str | None = None
    job_title: str = ""

    @property
    def needs_two_factor(self) -> bool:
        return self.site_role is not None or self.organisation_slug is not None

    @property
    def key(self) -> str:
        """How the demo steps find this person in ``DemoContext.people``: the address's local part."""
        return self.email.split("@", 1)[0]


def _email(local: str) -> str:
    return f"{local}@{DEMO_EMAIL_DOMAIN}"


PEOPLE: tuple[PersonSpec, ...] = (
    PersonSpec(_email("public"), "Alex Morgan", "Member of the public"),
    PersonSpec(
        _email("staff"), "Priya Shah", "Staff member, Waste and Recycling (Northgate)",
        organisation_slug="northgate-waste-and-recycling", staff_role=StaffRole.MEMBER,
        job_title="Waste services officer",
    ),
    PersonSpec(
        _email("responder"), "Sam Okafor",
        "Responder, Northgate and Riverside NHS Foundation Trust",
        organisation_slug="northgate-and-riverside-nhs-foundation-trust",
        staff_role=StaffRole.RESPONDER, job_title="Patient experience lead",
    ),
    PersonSpec(
        _email("org-admin"), "Rhian Evans", "Administrator, London Borough of Northgate",
        organisation_slug="london-borough-of-northgate", staff_role=StaffRole.ADMINISTRATOR,
        job_title="Customer insight manager",
    ),
    PersonSpec(_email("moderator"), "Jordan Lee", "Moderator", site_role=SiteRole.MODERATOR),
    PersonSpec(
        _email("coordinator"), "Maggie Doyle", "Circle coordinator",
        site_role=SiteRole.CIRCLE_COORDINATOR,
    ),
    PersonSpec(
        _email("facilitator"), "Tomasz Nowak", "Community facilitator",
        site_role=SiteRole.COMMUNITY_FACILITATOR,
    ),
    PersonSpec(_email("admin"), "Chris Patel", "Site administrator", site_role=SiteRole.SITE_ADMIN),
)


def demo_backup_codes(email: str) -> list[str]:
    """The demo backup codes of one person: fixed, so they can be printed and documented,
    and shaped like django-otp's own codes (8 characters of lower-case base32)."""
    codes = []
    for index in range(BACKUP_CODES_PER_PERSON):
        digest = hashlib.sha256(f"localsocial-demo:{email}:{index}".encode()).digest()
        codes.append(b32encode(digest[:5]).decode().lower())
    return codes


Counts = dict[str, int]


def _count(counts: Counts, kind: str, created: bool) -> None:
    counts[kind] = counts.get(kind, 0) + int(created)


def _load_organisation(spec: OrgSpec, parent: Organisation | None, areas: dict[str, Area],
                       counts: Counts) -> None:
    org = Organisation.objects.filter(slug=spec.slug).first()
    created = org is None
    if org is None:
        # Through the directory's own service, so that the tree path, validation and the
        # audit log are exactly what a person adding it by hand would get.
        details: dict[str, Any] = {
            "description": spec.description, "phone": spec.phone, "website": spec.website,
        }
        if spec.gss_code:
            details["gss_code"] = spec.gss_code
        if spec.ods_code:
            details["ods_code"] = spec.ods_code
        org = organisation_create(
            actor=None, name=spec.name, org_type=spec.org_type, parent=parent, slug=spec.slug,
            areas_served=[areas[code] for code in spec.areas], **details,
        )
    _count(counts, "organisations", created)
    for service in spec.services:
        created = False
        if not Service.objects.filter(slug=service.slug).exists():
            details = {"description": service.description, "phone": spec.phone}
            if service.lgsl_id is not None:
                details["lgsl_id"] = service.lgsl_id
            service_create(actor=None, organisation=org, name=service.name, slug=service.slug,
                           **details)
            created = True
        _count(counts, "services", created)
    for child in spec.children:
        _load_organisation(child, org, areas, counts)


def _load_person(spec: PersonSpec, password_hash: str, counts: Counts, ctx: DemoContext) -> User:
    user, created = User.objects.get_or_create(
        email=spec.email,
        defaults={
            "display_name": spec.display_name,
            "email_verified_at": timezone.now(),
            "password": password_hash,
            # Django's staff flag only opens the admin's sign-in form; the role decides.
            "is_staff": spec.site_role == SiteRole.SITE_ADMIN,
        },
    )
    _count(counts, "users", created)
    if spec.site_role is not None:
        _, created = RoleGrant.objects.get_or_create(user=user, role=spec.site_role)
        _count(counts, "role grants", created)
    if spec.organisation_slug is not None:
        assert spec.staff_role is not None
        _, created = membership_add(
            actor=None, organisation=Organisation.objects.get(slug=spec.organisation_slug),
            email=user.email, role=spec.staff_role, job_title=spec.job_title,
        )
        _count(counts, "memberships", created)
    codes: list[str] = []
    if spec.needs_two_factor:
        device, created = StaticDevice.objects.get_or_create(
            user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True}
        )
        _count(counts, "two-factor devices", created)
        codes = demo_backup_codes(spec.email)
        for code in codes:
            _, created = StaticToken.objects.get_or_create(device=device, token=code)
            _count(counts, "backup codes", created)
    ctx.accounts.append(DemoAccount(spec.email, spec.role_label, codes))
    return user


# --- The platform's demo steps (the modules' are in their own demo.py) -----------------------


@demo_step("directory", order=10)
def directory_demo(ctx: DemoContext) -> Counts:
    """The areas, and two councils and an NHS trust as three-level trees with their services."""
    counts: Counts = {}
    areas: dict[str, Area] = {}
    for code, name, area_type in AREAS:
        area, created = Area.objects.get_or_create(
            gss_code=code, defaults={"name": name, "area_type": area_type}
        )
        areas[code] = area
        _count(counts, "areas", created)
    for tree in ORGANISATION_TREES:
        _load_organisation(tree, None, areas, counts)
    slugs = [slug for tree in ORGANISATION_TREES for slug in _slugs(tree)]
    ctx.organisations.update(Organisation.objects.in_bulk(slugs, field_name="slug"))
    return counts


def _slugs(spec: OrgSpec) -> list[str]:
    return [spec.slug, *(slug for child in spec.children for slug in _slugs(child))]


@demo_step("accounts", order=20)
def people_demo(ctx: DemoContext) -> Counts:
    """One verified person for every role; the sign-ins the command prints."""
    counts: Counts = {}
    # Argon2 is slow on purpose; hash the one shared password once, not once a person.
    password_hash = make_password(DEMO_PASSWORD)
    for person in PEOPLE:
        user = _load_person(person, password_hash, counts, ctx)
        ctx.people[person.key] = user
        if person.site_role is not None:
            ctx.site_roles[str(person.site_role)] = user
    return counts


@demo_step("directory.postcodes", order=30)
def postcodes_demo(ctx: DemoContext) -> Counts:
    """Where the demo's postcodes are, so that distances (circles' matching) are real ones."""
    from localsocial.directory.postcodes import DEMO_POSTCODES, postcodes_load_file

    postcodes_load_file(DEMO_POSTCODES)
    return {}
