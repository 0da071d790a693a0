"""The module contract (decision 0015): a module plugs in by being added to INSTALLED_APPS.

tests/noticeboard/ is an empty module with a demo step, a generator step, an API router with a
scope and one webhook event.  Its settings add it to INSTALLED_APPS and change nothing else;
in a fresh process on an empty database every registry must find what it brings."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def plugged_in(tmp_path_factory):
    home = tmp_path_factory.mktemp("noticeboard")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.noticeboard.settings",
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{home / 'site.sqlite3'}",
        "LOCALSOCIAL_HOME": str(home),
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("REDIS_URL", None)
    done = subprocess.run([sys.executable, "-m", "tests.noticeboard.check"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_the_demo_runs_the_modules_step_after_the_platforms(plugged_in):
    # The platform's steps made three demo organisations before the module's step ran.
    seen = re.search(r"([\d,]+) noticeboard organisations seen", plugged_in["demo_output"])
    assert seen is not None, plugged_in["demo_output"]
    assert int(seen.group(1).replace(",", "")) >= 3


def test_generate_runs_the_modules_step_with_its_own_option(plugged_in):
    output = plugged_in["generate_output"]
    assert "7 notices" in output.splitlines()[0]  # --notices 7 in the command's summary
    step = next(line for line in output.splitlines() if "noticeboard.notices" in line)
    assert step.split()[1] == "7"


def test_the_api_serves_the_modules_router_under_its_prefix_with_stable_ids(plugged_in):
    assert (plugged_in["api_status"], plugged_in["api_body"]) == (200, {"notices": []})
    assert plugged_in["operation_id"] == "noticeboard_notices_list"
    assert plugged_in["operation_tags"] == ["Noticeboard"]
    assert plugged_in["scope_label"] == "Pin notices (noticeboard test module)"


def test_the_webhook_engine_sends_the_modules_event(plugged_in):
    assert plugged_in["openapi_webhook"] is True
    payload = plugged_in["delivery_payload"]
    assert payload["event"] == "notice.pinned"
    assert payload["data"] == {"notice": {"organisation_id": plugged_in["delivery_organisation"]}}


def test_nothing_outside_the_module_names_it_but_its_settings():
    mentions = [str(path.relative_to(ROOT)) for path in (ROOT / "src").rglob("*.py")
                if "noticeboard" in path.read_text(encoding="utf-8")]
    assert mentions == []


def test_the_site_without_it_does_not_have_it(client):
    assert client.get("/api/noticeboard/").status_code == 404
