"""The directory's one CSV format, shared by import and export (see docs/directory.md).

One row per record; ``record_type`` says which kind: ``area``, ``organisation`` or
``service``.  ``id`` is the record's stable id (a slug; for an area, its GSS code) and
``parent_id`` the id of the organisation above an organisation, or running a service.
"""

from __future__ import annotations

# The cell protection is core's (every export shares it); directory.exports and
# directory.imports take it from here, the format's one place.
from localsocial.core.csv import protect_cell as protect_cell
from localsocial.core.csv import unprotect_cell as unprotect_cell

COLUMNS = [
    "record_type",
    "id",
    "name",
    "type",
    "parent_id",
    "ods_code",
    "gss_code",
    "charity_number",
    "lgsl_id",
    "description",
    "address",
    "postcode",
    "latitude",
    "longitude",
    "website",
    "email",
    "phone",
    "areas_served",
    "private_provider",
    "active",
]
REQUIRED_COLUMNS = ["record_type", "id", "name"]

AREA, ORGANISATION, SERVICE = "area", "organisation", "service"
RECORD_TYPES = [AREA, ORGANISATION, SERVICE]

# The columns each kind of record may fill in; any other column must be left empty.
APPLIES_TO = {
    AREA: {"record_type", "id", "name", "type"},
    ORGANISATION: {
        "record_type", "id", "name", "type", "parent_id", "ods_code", "gss_code",
        "charity_number", "description", "address", "postcode", "latitude", "longitude",
        "website", "email", "phone", "areas_served", "private_provider",
    },
    SERVICE: {
        "record_type", "id", "name", "parent_id", "ods_code", "lgsl_id", "description",
        "address", "postcode", "latitude", "longitude", "website", "email", "phone", "active",
    },
}

AREA_SEPARATOR = ";"
YES, NO = "yes", "no"

# Spreadsheets run a cell that starts with a formula character; export protects the text
# columns and import takes the protection off again (core.csv, shared with every export).
TEXT_COLUMNS = {"name", "description", "address", "website", "email", "phone", "type"}
