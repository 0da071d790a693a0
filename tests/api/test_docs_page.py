"""/api/docs is one of the site's pages: a language, a viewport, one <main> with an <h1>, links
back to the site and to /developers/, and Swagger UI from our own static files under our CSP."""

import re

import pytest

pytestmark = pytest.mark.django_db


def test_the_docs_page_is_a_site_page_with_swagger_from_our_own_files(client):
    response = client.get("/api/docs")
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'<html lang="en-gb"', html)
    assert '<meta name="viewport"' in html
    assert html.count("<main") == 1
    assert len(re.findall(r"<h1[ >]", html)) == 1
    assert 'href="/"' in html
    assert 'href="/developers/"' in html
    assert 'href="/developers/problems/"' in html
    # Swagger UI is django-ninja's copy, served by us; nothing is fetched from elsewhere
    scripts = re.findall(r'<script[^>]* src="([^"]+)"', html)
    assert "/static/ninja/swagger-ui-bundle.js" in scripts
    assert all(src.startswith("/static/") for src in scripts), scripts
    # and every script (but the JSON settings, which never run) carries the nonce of the page's CSP
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    tags = [tag for tag in re.findall(r"<script[^>]*>", html) if 'type="application/json"' not in tag]
    assert len(tags) >= 3
    assert all(f'nonce="{nonce}"' in tag for tag in tags), tags
    assert '"url": "/api/openapi.json"' in html


def test_the_docs_page_works_with_a_slash_too(client):
    assert client.get("/api/docs/").status_code == 200
