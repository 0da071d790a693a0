"""The fictional vocabulary of generated data: place names, council structures with their
real Local Government Service List ids, hospital departments, charities, first names, and
identifiers in the right formats that belong to no real body, place or person."""

from __future__ import annotations

import random
from decimal import Decimal

from localsocial.directory.models import PATH_SEGMENT

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


def place_name(rng: random.Random) -> str:
    return rng.choice(PLACE_STARTS) + rng.choice(PLACE_ENDS)


def slug_part(text: str) -> str:
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


def fictional_ods_code(org_id: int) -> str:
    # "Z" and five base-36 digits from the id: unique, valid, and easy to tell apart.
    return "Z" + _base36(org_id, 5)


def fictional_postcode(rng: random.Random) -> str:
    # The ZZ postcode area does not exist, so no generated address is anyone's real one.
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return f"ZZ{rng.randint(1, 99)} {rng.randint(0, 9)}{rng.choice(letters)}{rng.choice(letters)}"


def fictional_phone(rng: random.Random) -> str:
    # Ofcom's range for drama: 020 7946 0000 to 0999.
    return f"020 7946 0{rng.randint(0, 999):03d}"


def coordinates_in_britain(rng: random.Random) -> tuple[Decimal, Decimal]:
    lat = Decimal(rng.uniform(50.5, 55.5)).quantize(Decimal("0.000001"))
    lon = Decimal(rng.uniform(-4.5, 1.5)).quantize(Decimal("0.000001"))
    return lat, lon


def path_segment(pk: int) -> str:
    return f"{pk:0{PATH_SEGMENT}d}."
