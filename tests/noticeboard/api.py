"""The noticeboard's API: one scope and one endpoint, registered with the platform's API."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from localsocial.api.registry import router_register, scope_register

NOTICES_WRITE = scope_register("notices:write", "Pin notices (noticeboard test module)")

router = Router()


class NoticeboardOut(Schema):
    notices: list[str]


@router.get("/", response=NoticeboardOut, summary="The notices pinned (always none)")
def notices_list(request: HttpRequest) -> NoticeboardOut:
    return NoticeboardOut(notices=[])


router_register("/noticeboard/", router, tags=["Noticeboard"], operation_id_prefix="noticeboard")
