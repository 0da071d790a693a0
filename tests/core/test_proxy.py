"""Behind our load balancer, the client's address comes from X-Forwarded-For — but only the
hops our own proxies added are trusted."""

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from localsocial.core.middleware import TrustedProxyMiddleware


def remote_addr_seen(settings, hops: int, forwarded: str | None) -> str:
    settings.TRUSTED_PROXY_COUNT = hops
    seen = {}

    def view(request):
        seen["addr"] = request.META["REMOTE_ADDR"]
        return HttpResponse()

    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.5", **extra)
    TrustedProxyMiddleware(view)(request)
    return seen["addr"]


def test_without_trusted_proxies_the_header_is_ignored(settings):
    assert remote_addr_seen(settings, 0, "203.0.113.9") == "10.0.0.5"


def test_one_trusted_proxy_gives_the_address_it_saw(settings):
    assert remote_addr_seen(settings, 1, "198.51.100.1, 203.0.113.9") == "203.0.113.9"


def test_a_forged_leftmost_entry_is_not_trusted(settings):
    # The client sent "1.2.3.4"; our one proxy appended the real address.
    assert remote_addr_seen(settings, 1, "1.2.3.4, 203.0.113.9") == "203.0.113.9"


@pytest.mark.parametrize("forwarded", [None, "", "not-an-address"])
def test_missing_or_bad_header_keeps_the_socket_address(settings, forwarded):
    assert remote_addr_seen(settings, 1, forwarded) == "10.0.0.5"
