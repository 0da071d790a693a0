import pytest

pytestmark = pytest.mark.django_db


def test_home_page_names_every_module(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    for module in ["Stories", "Circles", "Green Things", "Communities", "Insight", "Engage", "Directory"]:
        assert f">{module}<" in html or f">\n{module}" in html or module in html
    assert "Skip to main content" in html
    # Our own brand: no crown, no GDS Transport.
    assert "govuk-logo" not in html
    assert "Crown copyright" not in html


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_healthz_reports_database_cache_and_tasks(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "tasks"}
    assert all(check["ok"] for check in body["checks"].values())


def test_every_response_carries_a_request_id(client):
    response = client.get("/", HTTP_X_REQUEST_ID="lb-1234567890")
    assert response["X-Request-ID"] == "lb-1234567890"
    assert len(client.get("/")["X-Request-ID"]) == 32


def test_pages_send_a_content_security_policy(client):
    csp = client.get("/")["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp


def test_healthz_probes_the_real_task_queue(client, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    body = client.get("/healthz").json()
    assert body["checks"]["tasks"]["detail"] == "DatabaseBackend: 0 waiting"
    assert body["checks"]["cache"]["detail"] == "LocMemCache"


def test_healthz_fails_when_the_rq_queue_is_unreachable(client, settings):
    settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:1/0", "SOCKET_CONNECT_TIMEOUT": 1}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    response = client.get("/healthz")
    assert response.status_code == 503
    tasks = response.json()["checks"]["tasks"]
    assert tasks["ok"] is False
    assert tasks["detail"] == "ConnectionError"
