"""A member's token statement (and a helper's): newest first, a page at a time, with a CSV
download.  Shown to the account's owner, the circle's coordinators and site administrators;
to anyone else the page does not exist (404, so account numbers reveal nothing)."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from localsocial.accounts.actors import signed_in_actor
from localsocial.circles.models import Account
from localsocial.circles.selectors import ledger as selectors
from localsocial.core.csv import protect_cell
from localsocial.core.pagination import InvalidCursorError

PAGE_SIZE = settings.PAGE_SIZE


def _account_or_404(request: HttpRequest, account_id: int) -> Account:
    try:
        return selectors.account_get_for_statement(user=signed_in_actor(request), account_id=account_id)
    except selectors.AccountNotFoundError as exc:
        raise Http404("No such statement") from exc


@require_GET
@login_required
def my_statement(request: HttpRequest) -> HttpResponse:
    """Your statement: straight to it if you have one account, a choice if you have several."""
    accounts = selectors.statement_accounts_for_user(user=signed_in_actor(request))
    if len(accounts) == 1:
        return redirect("circles:statement", account_id=accounts[0].pk)
    return render(request, "circles/statement_choose.html", {
        "page_title": _("Your tokens"),
        "accounts": accounts,
        "owner_name": selectors.account_owner_name,
        "as_balance": selectors.balance_as_time,
    })


@require_GET
@login_required
def statement(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _account_or_404(request, account_id)
    try:
        page = selectors.statement_page(account=account, cursor=request.GET.get("cursor") or None, page_size=PAGE_SIZE)
    except InvalidCursorError as exc:
        raise Http404("This page of the statement does not exist") from exc
    owner = account.member or account.helper
    is_owner = owner is not None and owner.user_id == request.user.pk
    name = selectors.account_owner_name(account)
    return render(request, "circles/statement.html", {
        "page_title": _("Your tokens") if is_owner else _("Tokens: %(name)s") % {"name": name},
        "account": account,
        "is_owner": is_owner,
        "owner_name": name,
        "page": page,
        "pagination": page.govuk_params(request, landmark_label=_("Pages of the statement")),
        "as_time": selectors.quarters_as_time,
        "as_balance": selectors.balance_as_time,
        "cursor_at": selectors.statement_cursor_at,
    })


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(account: Account) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # so that spreadsheets read the file as UTF-8
    yield writer.writerow([
        "entry_id", "transfer_id", "date", "kind", "memo", "quarters", "hours", "corrects_transfer_id", "made_by",
        "made_for",
    ])
    for entry in selectors.statement_entries_all(account=account):
        transfer = entry.transfer
        yield writer.writerow([
            entry.pk, transfer.pk, timezone.localtime(entry.created_at).isoformat(timespec="seconds"),
            transfer.kind, protect_cell(transfer.memo), entry.quarters, f"{entry.quarters / 4:.2f}",
            transfer.reverses_id or "",
            protect_cell(transfer.created_by.public_name) if transfer.created_by else "",
            protect_cell(transfer.on_behalf_of.public_name) if transfer.on_behalf_of else "",
        ])


@require_GET
@login_required
def statement_csv(request: HttpRequest, account_id: int) -> StreamingHttpResponse:
    account = _account_or_404(request, account_id)
    response = StreamingHttpResponse(_csv_lines(account), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="tokens-statement-{account.pk}.csv"'
    return response


def statement_url(account: Account) -> str:
    return reverse("circles:statement", kwargs={"account_id": account.pk})


urlpatterns: list[URLPattern] = [
    path("statement/", my_statement, name="my_statement"),
    path("accounts/<int:account_id>/statement/", statement, name="statement"),
    path("accounts/<int:account_id>/statement.csv", statement_csv, name="statement_csv"),
]
