"""The proxy values behind a circle's estimate of savings to public services.

Only the circle's coordinators (and site administrators: ``circles.coordinate``) set them;
every change is audited with the figures before and after, since the estimate is only as
good as its assumptions and a funder may ask who chose them.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from localsocial.accounts.models import User
from localsocial.circles.models import Circle, HelpCategory, SavingsBasis, SavingsProxy
from localsocial.circles.selectors.membership import coordinator_required
from localsocial.core.services import audit_record, model_snapshot

PROXY_FIELDS = ["category", "basis", "value_pence", "attribution_percent", "source"]
# £10,000 an hour or a visit is far beyond any published unit cost: a bigger figure is a typing slip.
MAX_VALUE_PENCE = 1_000_000
MAX_SOURCE_LENGTH = 1000


def _validate(category: str, basis: str, value_pence: int, attribution_percent: int, source: str) -> None:
    errors: dict[str, str] = {}
    if category not in HelpCategory.values:
        errors["category"] = _("Choose the kind of help")
    if basis not in SavingsBasis.values:
        errors["basis"] = _("Choose whether the value is for each hour or for each visit")
    if not isinstance(value_pence, int) or value_pence <= 0:
        errors["value"] = _("Enter a value more than £0")
    elif value_pence > MAX_VALUE_PENCE:
        errors["value"] = _("Enter a value of £10,000 or less")
    if not isinstance(attribution_percent, int) or not 1 <= attribution_percent <= 100:
        errors["attribution_percent"] = _("Enter a share from 1 to 100 per cent")
    if not source.strip():
        errors["source"] = _("Say where the figure comes from, so that readers can check it")
    elif len(source.strip()) > MAX_SOURCE_LENGTH:
        errors["source"] = _("Where the figure comes from must be %(max)s characters or fewer") % {
            "max": MAX_SOURCE_LENGTH
        }
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def savings_proxy_set(
    *, circle: Circle, actor: User, category: str, basis: str, value_pence: int, attribution_percent: int,
    source: str,
) -> tuple[SavingsProxy, bool]:
    """Set the value one kind of help is assumed to save public services (one per kind per
    circle): added if there is none, changed otherwise.  Returns ``(proxy, changed)``; the same
    figures again change nothing and record nothing (a form sent twice is harmless)."""
    coordinator_required(actor, circle)
    source = source.strip()
    _validate(category, basis, value_pence, attribution_percent, source)
    wanted = {"basis": basis, "value_pence": value_pence, "attribution_percent": attribution_percent,
              "source": source}
    proxy = SavingsProxy.objects.select_for_update().filter(circle=circle, category=category).first()
    if proxy is None:
        try:
            with transaction.atomic():
                proxy = SavingsProxy.objects.create(circle=circle, category=category, updated_by=actor, **wanted)
        except IntegrityError:
            # Another coordinator added it at the same moment: change theirs instead.
            proxy = SavingsProxy.objects.select_for_update().get(circle=circle, category=category)
        else:
            audit_record(actor=actor, action="circles.savings_proxy_set", target=proxy,
                         after=model_snapshot(proxy, PROXY_FIELDS))
            return proxy, True
    if all(getattr(proxy, name) == value for name, value in wanted.items()):
        return proxy, False
    before = model_snapshot(proxy, PROXY_FIELDS)
    for name, value in wanted.items():
        setattr(proxy, name, value)
    proxy.updated_by = actor
    proxy.save()
    audit_record(actor=actor, action="circles.savings_proxy_set", target=proxy,
                 before=before, after=model_snapshot(proxy, PROXY_FIELDS))
    return proxy, True


@transaction.atomic
def savings_proxy_remove(*, circle: Circle, actor: User, category: str) -> bool:
    """Stop counting one kind of help in the estimate.  Returns False when it had no value
    (already removed): safe to send twice."""
    coordinator_required(actor, circle)
    proxy = SavingsProxy.objects.select_for_update().filter(circle=circle, category=category).first()
    if proxy is None:
        return False
    audit_record(actor=actor, action="circles.savings_proxy_remove", target=proxy,
                 before=model_snapshot(proxy, PROXY_FIELDS))
    proxy.delete()
    return True
