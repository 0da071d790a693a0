"""Operations: health checks that name what failed, JSON logs with request ids, production
settings that pass Django's deployment checks, and Redis for the cache and the task queue."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import redis
from django.db import OperationalError, connection
from django.test import override_settings
from django_tasks import task

from localsocial.core.logging import JsonFormatter, RequestIdFilter

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]
UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
    }
}


@task()
def add_for_operations_test(a: int, b: int) -> int:
    """A real task for the RQ worker below to run."""
    return a + b


def test_healthz_is_503_and_names_the_cache_when_the_cache_is_down(client):
    with override_settings(CACHES=UNREACHABLE_REDIS):
        response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["cache"]["ok"] is False
    assert body["checks"]["cache"]["detail"]  # the kind of error, for the operator
    assert body["checks"]["database"]["ok"] is True


def test_healthz_is_503_and_names_the_database_when_the_database_is_down(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1 refused")

    with monkeypatch.context() as patch:
        patch.setattr(connection, "cursor", refuse)
        response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == {**body["checks"]["database"], "ok": False,
                                          "detail": "OperationalError"}
    assert body["checks"]["cache"]["ok"] is True


@pytest.fixture
def json_log():
    """The JSON lines that the views' logger writes while the test runs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("localsocial.core.views")
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


@pytest.mark.parametrize("incoming", ["", "lb-request-0123456789"])
def test_log_lines_are_json_with_the_responses_request_id(client, json_log, incoming):
    # Given a request that logs (a failing health check warns), with or without an id from
    # the load balancer
    headers = {"HTTP_X_REQUEST_ID": incoming} if incoming else {}
    with override_settings(CACHES=UNREACHABLE_REDIS):
        response = client.get("/healthz", **headers)

    # Then every line is one JSON object carrying the id the response returned
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    assert lines
    assert response["X-Request-ID"] == (incoming or response["X-Request-ID"])
    for line in lines:
        assert line["request_id"] == response["X-Request-ID"]
        assert line["level"] == "WARNING"
        assert "healthz cache failed" in line["message"]


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The environment of a production process: DEBUG and the test switch unset."""
    env = {
        key: value for key, value in os.environ.items()
        if key not in {"DEBUG", "LOCALSOCIAL_TESTING", "SECRET_KEY", "ALLOWED_HOSTS",
                       "REDIS_URL", "TASKS_BACKEND", "DATABASE_URL", "TEST_DATABASE_NAME",
                       "SECURE_SSL_REDIRECT", "BEHIND_PROXY", "SECURE_HSTS_SECONDS",
                       "DJANGO_ALLOW_ASYNC_UNSAFE"}
        and not key.startswith("PYTEST")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="localsocial.config.settings",
        SECRET_KEY="production-like-" + "k7Qx2vLm9Rt4" * 5,
        ALLOWED_HOSTS="example.org",
        LOCALSOCIAL_VAR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        # This checkout's code (and its tests, for the worker's task), whichever checkout the
        # virtualenv was installed from: a shared .venv's editable install points elsewhere.
        PYTHONPATH=os.pathsep.join([str(REPO / "src"), str(REPO)]),
    )
    env.update(overrides)
    return {key: value for key, value in env.items() if value != ""}


def run(args: list[str], env: dict[str, str], timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], env=env, cwd=REPO, capture_output=True, text=True,
        timeout=timeout, check=False,
    )


def test_production_settings_pass_the_deployment_checks(tmp_path):
    result = run(["-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
                 production_env(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = run(["-m", "django", "check"], production_env(tmp_path, SECRET_KEY=""))

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


ENQUEUE = """
import json, sys
import django
django.setup()
import redis
from django.conf import settings
from django.core.cache import caches
from tests.core.test_operations import add_for_operations_test

key = sys.argv[1]
cache = caches["default"]
cache.set(key, "stored", 60)
raw = redis.Redis.from_url(settings.REDIS_URL)
result = add_for_operations_test.enqueue(2, 3)
print(json.dumps({
    "cache": type(cache).__module__ + "." + type(cache).__name__,
    "read_back": cache.get(key),
    "in_redis": [k.decode() for k in raw.keys("*" + key)],
    "tasks": settings.TASKS["default"]["BACKEND"],
    "backend": type(add_for_operations_test.get_backend()).__name__,
    "result_id": result.id,
    "log_format": settings.LOGGING["handlers"]["console"]["formatter"],
}))
cache.delete(key)
"""

FETCH = """
import json, sys
import django
django.setup()
from django_tasks import default_task_backend
result = default_task_backend.get_result(sys.argv[1])
print(json.dumps({"status": str(result.status), "value": result.return_value
                  if str(result.status).endswith("SUCCESSFUL") else None}))
"""


@pytest.fixture
def private_redis():
    """A Redis server of the test's own, on a Unix socket, saving nothing.

    The machine's Redis is shared: other test runs (the SQLite and PostgreSQL runs, other
    checkouts) enqueue into the same queue, and a burst worker takes whatever it finds, so a
    shared server made the worker's work depend on who else was running.  Here the queue holds
    this test's job and nothing else."""
    server = shutil.which("redis-server")
    if server is None:  # pragma: no cover - environment problem
        pytest.fail("redis-server is not installed (Debian: apt-get install redis-server)")
    folder = Path(tempfile.mkdtemp(prefix="ls-redis-"))  # short: a socket's path has ~100 characters
    socket_path = folder / "redis.sock"
    # The server is the test's equipment, not code under test: it runs on the real clock even
    # when the suite runs under libfaketime (make test-future), which redis-server cannot load.
    real_clock = {key: value for key, value in os.environ.items()
                  if key != "LD_PRELOAD" and not key.startswith("FAKETIME")}
    process = subprocess.Popen(
        [server, "--port", "0", "--unixsocket", str(socket_path), "--unixsocketperm", "700",
         "--save", "", "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=real_clock,
    )
    url = f"unix://{socket_path}?db=0"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                redis.Redis.from_url(url, socket_connect_timeout=1).ping()
                break
            except redis.exceptions.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"redis-server did not start (exit code {process.poll()})")
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def redis_env(tmp_path, private_redis):
    prefix = f"ops-test-{uuid.uuid4().hex[:12]}"
    return production_env(tmp_path, REDIS_URL=private_redis, CACHE_KEY_PREFIX=prefix), prefix, private_redis


def test_with_redis_the_cache_and_task_queue_use_redis_and_a_worker_runs_tasks(redis_env):
    env, prefix, url = redis_env
    key = f"probe-{uuid.uuid4().hex}"

    # Given production settings with REDIS_URL: the cache and the task backend are Redis
    enqueued = run(["-c", ENQUEUE, key], env)
    assert enqueued.returncode == 0, enqueued.stderr
    facts = json.loads(enqueued.stdout.strip().splitlines()[-1])
    assert facts["cache"] == "django_redis.cache.RedisCache"
    assert facts["read_back"] == "stored"
    assert facts["in_redis"] == [f"{prefix}:1:{key}"]
    assert facts["tasks"] == "django_tasks_rq.RQBackend"
    assert facts["backend"] == "RQBackend"
    assert facts["log_format"] == "json"
    queue = redis.Redis.from_url(url)
    assert queue.lrange("rq:queue:default", 0, -1) == [facts["result_id"].encode()]  # ours, alone

    # When the documented worker command runs in burst mode (the test module, which holds
    # the task, is importable from the repository root)
    # (the time limit only guards against a hang on a loaded machine: starting Django there can
    # take a while; how soon the worker stops once done is checked below)
    worker = subprocess.run(  # the installed console script, as operators run it
        [str(Path(sys.executable).parent / "localsocial"), "rqworker", "default", "--burst"],
        env=env, cwd=REPO, capture_output=True, text=True,
        timeout=180, check=False,
    )
    stopped = dt.datetime.now(dt.UTC)
    assert worker.returncode == 0, worker.stderr

    # Then it ran this job, emptied the queue and stopped as soon as it was done (RQ's own worker
    # could wait a minute more for its command listener); the result is there for anyone to read
    logged = [json.loads(line) for line in worker.stderr.splitlines() if line.startswith("{")]
    done = [line["message"] for line in logged if "Job OK" in line["message"]]
    assert len(done) == 1, logged
    assert done[0].endswith(f": default: Job OK ({facts['result_id']})")
    [quitting] = [line for line in logged if line["message"].endswith(": done, quitting")]
    assert stopped - dt.datetime.fromisoformat(quitting["time"]) < dt.timedelta(seconds=15)
    assert queue.llen("rq:queue:default") == 0
    fetched = run(["-c", FETCH, facts["result_id"]], env)
    assert fetched.returncode == 0, fetched.stderr
    outcome = json.loads(fetched.stdout.strip().splitlines()[-1])
    assert outcome["status"].endswith("SUCCESSFUL")
    assert outcome["value"] == 5


def test_a_worker_told_to_stop_stops_at_once_not_after_its_listeners_minute(private_redis, monkeypatch):
    # RQ's worker listens for commands in a thread that waits up to 60 s for a message.  Given
    # the worker's listener has read Redis's reply to the unsubscribe before being asked to
    # stop (the order that made `rqworker --burst` hang for a minute now and then) ...
    from localsocial.core.rq_worker import LISTENER_STOP_SECONDS, Worker

    worker = Worker(["default"], connection=redis.Redis.from_url(private_redis))
    worker.subscribe()
    assert worker.pubsub is not None
    send_unsubscribe = worker.pubsub.unsubscribe

    def unsubscribe_then_pause(*args: str) -> object:
        sent = send_unsubscribe(*args)
        time.sleep(0.5)  # the listener reads the reply now
        return sent

    monkeypatch.setattr(worker.pubsub, "unsubscribe", unsubscribe_then_pause)

    # When the worker stops listening
    started = time.monotonic()
    worker.unsubscribe()

    # Then it has stopped within moments, its listener gone
    assert time.monotonic() - started < LISTENER_STOP_SECONDS
    assert worker.pubsub_thread is not None
    assert not worker.pubsub_thread.is_alive()
