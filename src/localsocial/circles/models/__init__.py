"""Circles: members, helpers, help and the token ledger.  Import the models from here::

    from localsocial.circles.models import Circle, Member, Account, Transfer
"""

from localsocial.circles.models.circle import (
    QUARTERS_PER_TOKEN,
    Circle,
    CircleCoordinator,
    CirclePartner,
    TokenBundle,
)
from localsocial.circles.models.helpers import DbsStatus, Helper, HelperKind
from localsocial.circles.models.ledger import (
    CIRCLE_ACCOUNT_KINDS,
    Account,
    AccountKind,
    Entry,
    Transfer,
    TransferKind,
)
from localsocial.circles.models.membership import (
    ContactPreference,
    JoinRoute,
    Member,
    MembershipYear,
    MemberStatus,
    Payment,
    PaymentMethod,
    PaymentPurpose,
    PaymentStatus,
)

__all__ = [
    "CIRCLE_ACCOUNT_KINDS",
    "QUARTERS_PER_TOKEN",
    "Account",
    "AccountKind",
    "Circle",
    "CircleCoordinator",
    "CirclePartner",
    "ContactPreference",
    "DbsStatus",
    "Entry",
    "Helper",
    "HelperKind",
    "JoinRoute",
    "Member",
    "MemberStatus",
    "MembershipYear",
    "Payment",
    "PaymentMethod",
    "PaymentPurpose",
    "PaymentStatus",
    "TokenBundle",
    "Transfer",
    "TransferKind",
]
