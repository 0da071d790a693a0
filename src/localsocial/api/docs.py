"""/api/docs: Swagger UI inside the site's own page, so that it has what every page has (a
language, a viewport, a header back to the site, one <main> with an <h1>) and keeps the site's
CSP.  Swagger UI's script and styles are the ones django-ninja ships (``ninja/static``), served
by the site like any static file: nothing comes from a CDN."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import json_script
from django.utils.translation import gettext as _
from ninja.openapi.docs import DocsBase

if TYPE_CHECKING:
    from ninja import NinjaAPI


class ApiDocs(DocsBase):
    """ninja's Swagger page, drawn by ``api/docs.html``."""

    settings: dict[str, Any] = {
        "layout": "BaseLayout",
        # With deep links, each operation's path is a link inside its expand button: a
        # control inside a control, which screen readers cannot reach (axe nested-interactive).
        "deepLinking": False,
        # The explorer's colour-coded code samples fail contrast; plain text passes.
        "syntaxHighlight": False,
        "defaultModelsExpandDepth": 0,
    }

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        swagger_settings = {**self.settings, "url": self.get_openapi_url(api, kwargs)}
        return render(request, "api/docs.html", {
            "page_title": _("API documentation"),
            "api": api,
            "swagger_settings": json_script(swagger_settings, "swagger-settings"),
        })
