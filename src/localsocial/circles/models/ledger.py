"""The token ledger: double entry, append only.

Every movement of tokens is a ``Transfer`` made of ``Entry`` rows that sum to zero; an entry is
never changed or deleted (a mistake is put right by a reversing transfer that points at it).
``Account.balance_quarters`` caches the sum of an account's entries so that limits can be
checked and enforced atomically: it is changed only in the same statement that checks the
limit, and ``localsocial ledger verify`` proves it equals the entries.  Amounts are whole
quarter hours (1 token = 4).  What the database enforces itself: see migration 0002 and
docs/circles-ledger.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountKind(models.TextChoices):
    MEMBER = "member", _("Member")
    HELPER = "helper", _("Helper who earns tokens")
    ISSUANCE = "issuance", _("Tokens issued by the circle")  # the source of every token; goes negative
    SALES = "sales", _("Tokens sold")  # tokens bought by members and gift givers come through here
    HELP = "help", _("Help given by the circle's helpers")  # tokens spent on help from paid helpers and volunteers


CIRCLE_ACCOUNT_KINDS = [AccountKind.ISSUANCE, AccountKind.SALES, AccountKind.HELP]


class Account(models.Model):
    circle = models.ForeignKey("circles.Circle", on_delete=models.PROTECT, related_name="accounts")
    kind = models.CharField(max_length=10, choices=AccountKind.choices)
    member = models.OneToOneField(
        "circles.Member", null=True, blank=True, on_delete=models.PROTECT, related_name="account"
    )
    helper = models.OneToOneField(
        "circles.Helper", null=True, blank=True, on_delete=models.PROTECT, related_name="account"
    )
    balance_quarters = models.BigIntegerField(default=0)
    # The lowest balance allowed; None for no limit (the circle's issuance account).
    minimum_quarters = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=[c.value for c in AccountKind]), name="circles_account_kind_valid"
            ),
            # The limit holds in the database: an update that would break it fails.
            models.CheckConstraint(
                condition=models.Q(minimum_quarters__isnull=True)
                | models.Q(balance_quarters__gte=models.F("minimum_quarters")),
                name="circles_account_within_limit",
            ),
            models.CheckConstraint(
                condition=models.Q(kind=AccountKind.MEMBER, member__isnull=False, helper__isnull=True)
                | models.Q(kind=AccountKind.HELPER, helper__isnull=False, member__isnull=True)
                | models.Q(kind__in=CIRCLE_ACCOUNT_KINDS, member__isnull=True, helper__isnull=True),
                name="circles_account_owner_matches_kind",
            ),
            models.UniqueConstraint(
                fields=["circle", "kind"], condition=models.Q(kind__in=CIRCLE_ACCOUNT_KINDS),
                name="circles_account_one_of_each_circle_kind",
            ),
        ]

    def __str__(self) -> str:
        owner = self.member or self.helper or self.get_kind_display()
        return f"{owner} ({self.circle_id})"


class TransferKind(models.TextChoices):
    PURCHASE = "purchase", _("Bought")
    GIFT = "gift", _("Gift")
    GRANT = "grant", _("Granted by the circle")
    HELP = "help", _("Help")
    REVERSAL = "reversal", _("Correction")


class Transfer(models.Model):
    # No index of its own: circles_transfer_idempotent (circle, key) serves lookups by circle, and
    # every index is one more write per transfer (decision 0023).
    circle = models.ForeignKey("circles.Circle", on_delete=models.PROTECT, related_name="transfers", db_index=False)
    kind = models.CharField(max_length=10, choices=TransferKind.choices)
    idempotency_key = models.CharField(max_length=100)
    memo = models.CharField(max_length=300, blank=True)
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    payment = models.ForeignKey(
        "circles.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="transfers"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("Set when a coordinator made the transfer for a member (assisted use)."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["circle", "idempotency_key"], name="circles_transfer_idempotent"),
            models.CheckConstraint(
                condition=models.Q(kind__in=[c.value for c in TransferKind]), name="circles_transfer_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(kind=TransferKind.REVERSAL, reverses__isnull=False)
                | (~models.Q(kind=TransferKind.REVERSAL) & models.Q(reverses__isnull=True)),
                name="circles_transfer_reversal_points_back",
            ),
            models.CheckConstraint(condition=~models.Q(idempotency_key=""), name="circles_transfer_key_present"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class Entry(models.Model):
    # No indexes of their own: circles_entry_one_per_account (transfer, account) and
    # circles_entry_statement (account, -id) serve them (decision 0023).
    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="entries", db_index=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries", db_index=False)
    quarters = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # A statement: an account's entries newest first, a page at a time.
            models.Index(fields=["account", "-id"], name="circles_entry_statement"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(quarters=0), name="circles_entry_not_zero"),
            models.UniqueConstraint(fields=["transfer", "account"], name="circles_entry_one_per_account"),
        ]

    def __str__(self) -> str:
        return f"{self.quarters:+d} on {self.account_id} (transfer {self.transfer_id})"
