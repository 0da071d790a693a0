"""``localsocial generate`` for circles (``circles/generate.py``): circles, members, helpers,
visits and a ledger in the numbers asked for, that ``ledger verify`` and ``circles_totals``
accept, and that ``--reset`` removes without touching anything else."""

from __future__ import annotations

from collections import Counter
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from localsocial.circles.models import (
    Account,
    AccountKind,
    Circle,
    CircleCoordinator,
    Entry,
    Helper,
    HelpRequest,
    LedgerDayTotal,
    Member,
    MembershipYear,
    Transfer,
    Visit,
)
from localsocial.circles.selectors.ledger import ledger_verify
from localsocial.circles.services.help_totals import help_totals_differences
from localsocial.circles.services.ledger import tokens_grant
from localsocial.circles.services.ledger_totals import ledger_totals_differences
from localsocial.core.generate import GenerationPlan
from tests.circles.factories import CircleFactory, MemberFactory

pytestmark = pytest.mark.django_db

SIZES = ["--circles", "2", "--circle-members", "30", "--circle-helpers", "4", "--circle-visits", "40",
         "--ledger-entries", "80"]


def run(command: str, *args: str) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def generate_circles(*extra: str) -> str:
    return run("generate", "--scale", "0.01", "--stories", "0", *SIZES, *extra)


def generated() -> dict[str, int]:
    circles = Circle.objects.filter(slug__startswith="gen-")
    return {
        "circles": circles.count(),
        "members": Member.objects.filter(circle__in=circles).count(),
        "helpers": Helper.objects.filter(circle__in=circles).count(),
        "visits": Visit.objects.filter(circle__in=circles, completed_at__isnull=False, payment="paid").count(),
        "open requests": HelpRequest.objects.filter(circle__in=circles, status="open").count(),
        "grants": Transfer.objects.filter(circle__in=circles, kind="grant").count(),
        "transfers": Transfer.objects.filter(circle__in=circles).count(),
    }


def test_the_numbers_are_options_that_follow_the_scale_unless_given():
    plan = GenerationPlan.for_scale(1)
    assert (plan.count("circles"), plan.count("circle-members"), plan.count("circle-visits")) == (10, 2_000, 5_000)
    small = GenerationPlan.for_scale(0.01)
    assert small.count("circles") == 1  # at least one
    assert GenerationPlan.for_scale(1, counts={"circle-members": 7}).count("circle-members") == 7


def test_a_tiny_scale_builds_the_circles_asked_for():
    output = generate_circles()

    assert "circles.circles" in output
    assert "2 circles, 30 circle members, 4 circle helpers, 40 completed visits, 80 more ledger entries" in output
    counts = generated()
    # 30 welcome grants and 10 grant-and-help pairs in each circle.
    assert {key: counts[key] for key in ("circles", "members", "helpers", "visits", "open requests", "grants")} == {
        "circles": 2, "members": 30, "helpers": 4, "visits": 40, "open requests": 4, "grants": 30 + 20,
    }
    # Each circle: its own accounts, a coordinator, members with a year each.
    for circle in Circle.objects.filter(slug__startswith="gen-"):
        assert set(Account.objects.filter(circle=circle, member=None).values_list("kind", flat=True)) == {
            AccountKind.ISSUANCE, AccountKind.SALES, AccountKind.HELP}
        assert CircleCoordinator.objects.filter(circle=circle).exists()
        assert Member.objects.filter(circle=circle).count() == 15
    assert MembershipYear.objects.count() == 30


def test_the_generated_ledger_and_totals_pass_their_checks():
    generate_circles()

    failed = [result.name for result in ledger_verify() if not result.ok]
    assert failed == []
    assert "The ledger is sound" in run("ledger", "verify")
    assert ledger_totals_differences() == []
    assert help_totals_differences() == []
    assert "match" in run("circles_totals")
    assert LedgerDayTotal.objects.exists()


def test_each_visit_is_paid_by_its_member_to_the_circles_help_account():
    generate_circles()

    for visit in Visit.objects.select_related("request__member__account", "transfer"):
        legs = dict(Entry.objects.filter(transfer=visit.transfer).values_list("account_id", "quarters"))
        help_account = Account.objects.get(circle_id=visit.circle_id, kind=AccountKind.HELP)
        assert legs == {visit.request.member.account.pk: -visit.quarters, help_account.pk: visit.quarters}
        assert visit.request.created_at < visit.checked_in_at < visit.completed_at
        assert not Member.objects.filter(circle_id=visit.circle_id, user_id=visit.helper.user_id).exists()
    # Members short of tokens bought some first: every purchase comes with its payment.
    purchases = Transfer.objects.filter(kind="purchase")
    assert purchases.exists()
    assert not purchases.filter(payment__isnull=True).exists()


def test_the_first_member_of_each_circle_has_the_longest_statement():
    generate_circles("--ledger-entries", "400")

    for circle in Circle.objects.filter(slug__startswith="gen-"):
        members = Account.objects.filter(circle=circle, kind=AccountKind.MEMBER).order_by("pk")
        entries = Counter(dict(
            Entry.objects.filter(account__in=members).values("account_id").annotate(n=Count("pk"))
            .values_list("account_id", "n")
        ))
        assert entries.most_common(1)[0][0] == members.first().pk


def test_reset_removes_the_generated_circles_and_nothing_else():
    # Given a circle of the site's own, with tokens moved through the service
    own = CircleFactory(slug="own-circle")
    member = MemberFactory(circle=own)
    tokens_grant(circle=own, member=member, quarters=8, idempotency_key="own-grant")
    generate_circles()

    output = run("generate", "--reset")

    assert "reset circles.circles" in output
    assert set(generated().values()) == {0}
    assert list(Circle.objects.values_list("slug", flat=True)) == ["own-circle"]
    assert Account.objects.get(member=member).balance_quarters == 8
    assert [result.name for result in ledger_verify() if not result.ok] == []
    assert ledger_totals_differences() == []


def test_too_many_members_for_the_people_generated_is_refused_clearly():
    with pytest.raises(CommandError, match="raise --scale"):
        run("generate", "--scale", "0.01", "--stories", "0", "--circles", "1", "--circle-members", "5000")
    assert not Circle.objects.exists()
