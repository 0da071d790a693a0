"""Account pages.  Split by area: signing up and in (``auth``), the person's own account
(``profile``), two-step verification (``two_factor``) and site roles (``people``)."""

from localsocial.accounts.views.auth import (
    check_email,
    email_unconfirmed,
    password_reset,
    password_reset_confirm,
    password_reset_sent,
    sign_in,
    sign_out,
    sign_up,
    verify_email,
)
from localsocial.accounts.views.people import (
    people,
    person,
    person_role_grant,
    person_role_revoke,
    person_two_factor_reset,
)
from localsocial.accounts.views.profile import (
    account_delete,
    account_deleted,
    data_export,
    data_export_download,
    email_change,
    password_change,
    profile,
    profile_details,
)
from localsocial.accounts.views.two_factor import (
    backup_codes,
    backup_codes_new,
    two_factor_setup,
    two_factor_verify,
)

__all__ = [
    "account_delete",
    "account_deleted",
    "backup_codes",
    "backup_codes_new",
    "check_email",
    "data_export",
    "data_export_download",
    "email_change",
    "email_unconfirmed",
    "password_change",
    "password_reset",
    "password_reset_confirm",
    "password_reset_sent",
    "people",
    "person",
    "person_role_grant",
    "person_role_revoke",
    "person_two_factor_reset",
    "profile",
    "profile_details",
    "sign_in",
    "sign_out",
    "sign_up",
    "two_factor_setup",
    "two_factor_verify",
    "verify_email",
]
