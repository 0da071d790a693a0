"""The circles module's entries in the platform's registries: its section of the site, the
role that needs two-step verification (coordinator), its "Your work" links and its metrics
(``circles.metrics``).  (Personal data is in ``circles.personal_data``.)  ``register()`` is
called from ``CirclesConfig.ready()``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Count
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from localsocial.core.work_links import WorkLink

if TYPE_CHECKING:
    from localsocial.accounts.models import User


def coordinates_a_circle(user: User) -> bool:
    """Coordinators of any circle use two-step verification: they see members' details and act
    for them.  One query."""
    from localsocial.circles.models import CircleCoordinator

    return CircleCoordinator.objects.filter(user=user).exists()


def circles_work_links(user: User) -> list[WorkLink]:
    """Members: their membership of each circle they have not left, and their requests for
    help.  Coordinators: each circle's matching queue (with the requests waiting for a helper)
    and its members.  Organisation staff: referrals between circles and their organisation.
    At most four queries (whether they work for an organisation is usually known already)."""
    from localsocial.accounts.selectors import user_is_organisation_staff
    from localsocial.circles.models import (
        CircleCoordinator,
        HelpRequest,
        Member,
        MemberStatus,
        RequestStatus,
    )

    links: list[WorkLink] = []
    members = list(
        Member.objects.filter(user=user).exclude(status=MemberStatus.LEFT).select_related("circle")
        .only("id", "status", "circle__name", "circle__slug").order_by("circle__name", "id")
    )
    for member in members:
        links.append(WorkLink(
            label=_("Your membership of %(circle)s") % {"circle": member.circle.name},
            url=reverse("circles:membership", kwargs={"slug": member.circle.slug}),
            hint=_("Your tokens, your membership year and your details."),
        ))
    if members:
        links.append(WorkLink(label=_("Your requests for help"), url=reverse("circles:help_mine")))
    circles = [
        coordinator.circle
        for coordinator in CircleCoordinator.objects.filter(user=user).select_related("circle")
        .only("id", "circle__id", "circle__name", "circle__slug").order_by("circle__name", "circle_id")
    ]
    if circles:
        waiting = dict(
            HelpRequest.objects.filter(circle__in=circles, status=RequestStatus.OPEN)
            .values("circle_id").annotate(n=Count("id")).values_list("circle_id", "n").order_by()
        )
        for circle in circles:
            links.append(WorkLink(
                label=_("Matching queue: %(circle)s") % {"circle": circle.name},
                url=reverse("circles:help_queue", kwargs={"slug": circle.slug}),
                count=waiting.get(circle.pk, 0), hint=_("Requests waiting for a helper."),
            ))
            links.append(WorkLink(
                label=_("Members of %(circle)s") % {"circle": circle.name},
                url=reverse("circles:coordinate_members", kwargs={"slug": circle.slug}),
            ))
    if user_is_organisation_staff(user=user):
        links.append(WorkLink(
            label=_("Referrals between circles and your organisation"), url=reverse("circles:referrals_partner"),
        ))
    return links


def register() -> None:
    from localsocial.accounts.two_factor_rules import two_factor_rule_register
    from localsocial.circles import metrics
    from localsocial.core.metrics import metric_register
    from localsocial.core.navigation import navigation_register
    from localsocial.core.work_links import work_links_register

    navigation_register(
        "circles", label=gettext_lazy("Circles"), url_name="circles:index", order=20,
        description=gettext_lazy(
            "Get practical help from vetted helpers and neighbours, and help others, paid in time."
        ),
    )
    two_factor_rule_register("circles", coordinates_a_circle)
    work_links_register("circles", circles_work_links, order=20)
    metric_register(
        "circles-help-hours", label=gettext_lazy("Hours of help given"), unit="hours",
        description=gettext_lazy(
            "Hours of help given in circles in the area: the length of the visits completed in the month."
        ),
        fn=metrics.help_hours,
    )
    metric_register(
        "circles-active-members", label=gettext_lazy("Active circle members"), unit="people",
        description=gettext_lazy(
            "Members of circles in the area whose membership year, paid for or free, covers part of the month."
        ),
        fn=metrics.active_members,
    )
