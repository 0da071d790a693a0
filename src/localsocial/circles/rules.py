"""Who may do what in circles, as ``rules`` predicates.

* ``circles.coordinate`` on a Circle: its coordinators and site administrators.
* ``circles.view_statement`` on an Account: the member or helper whose account it is, the
  circle's coordinators and site administrators.
"""

from __future__ import annotations

from typing import Any

import rules

from localsocial.accounts.rules import is_site_admin
from localsocial.circles.models import Account, Circle, CircleCoordinator


@rules.predicate
def is_coordinator_of(user: Any, circle: Circle | None) -> bool:
    if circle is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return CircleCoordinator.objects.filter(circle=circle, user=user).exists()


@rules.predicate
def owns_account(user: Any, account: Account | None) -> bool:
    if account is None or not getattr(user, "is_authenticated", False):
        return False
    owner = account.member or account.helper
    return owner is not None and owner.user_id == user.pk


@rules.predicate
def coordinates_account_circle(user: Any, account: Account | None) -> bool:
    return account is not None and is_coordinator_of(user, account.circle)


rules.add_perm("circles.coordinate", is_coordinator_of | is_site_admin)
rules.add_perm("circles.view_statement", owns_account | coordinates_account_circle | is_site_admin)
