"""The platform's registries (issue 10): what a module registers is what the platform uses, in
order, and registering a name again replaces the earlier entry."""

from __future__ import annotations

import datetime as dt

import pytest

from localsocial.core import metrics, navigation, open_data, work_links
from localsocial.core import search_sources as search_registry
from localsocial.core.metrics import Observation, metric_observations, metric_register
from localsocial.core.navigation import navigation_entries, navigation_register
from localsocial.core.open_data import DatasetFormat, dataset_register, datasets
from localsocial.core.search_sources import (
    SearchHit,
    search_everywhere,
    search_source_register,
    search_sources,
)
from localsocial.core.work_links import WorkLink, work_links_for, work_links_register
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _registries_restored():
    """Each test may register freely: every registry is put back as the apps left it."""
    saved = [
        (navigation, "_entries", dict(navigation._entries)),
        (work_links, "_providers", dict(work_links._providers)),
        (search_registry, "_sources", dict(search_registry._sources)),
        (open_data, "_datasets", dict(open_data._datasets)),
        (metrics, "_metrics", dict(metrics._metrics)),
    ]
    yield
    for module, name, value in saved:
        setattr(module, name, value)


# --- What the apps register ------------------------------------------------------------------

def test_every_section_is_registered_by_its_own_app_in_the_old_order():
    assert [entry.name for entry in navigation_entries()] == [
        "stories", "circles", "green", "communities", "insight", "engage", "directory",
    ]
    built = {entry.name: entry.built for entry in navigation_entries()}
    assert all(built[name] for name in ("stories", "circles", "directory"))
    assert not any(built[name] for name in ("green", "communities", "insight", "engage"))


def test_the_modules_register_their_search_sources_datasets_links_and_metrics():
    assert [source.name for source in search_sources()] == ["stories", "directory"]
    assert [dataset.name for dataset in datasets()] == ["stories", "directory"]
    assert list(work_links.work_links_providers()) == ["stories", "circles"]
    assert [metric.slug for metric in metrics.metrics()] == [
        "circles-active-members", "circles-help-hours", "stories-published", "stories-responded",
    ]


# --- Navigation ------------------------------------------------------------------------------

def test_navigation_orders_by_order_then_name_and_replaces_on_register_again():
    navigation_register("zeta", label="Zeta", url_name="core:home", order=15)
    navigation_register("alpha", label="Alpha", url_name="core:home", order=15)
    navigation_register("zeta", label="Zeta again", url_name="core:privacy", order=1)

    entries = navigation_entries()

    assert [e.name for e in entries][:4] == ["zeta", "stories", "alpha", "circles"]
    assert (entries[0].label, entries[0].url_name) == ("Zeta again", "core:privacy")


@pytest.mark.django_db
def test_a_registered_section_appears_in_the_header_and_with_a_description_on_the_home_page(client):
    navigation_register("parish", label="Parish news", url_name="core:privacy", order=65,
                        description="What the parish council is doing.")

    html = client.get("/").content.decode()

    assert html.index(">Engage<") < html.index(">Parish news<") < html.index(">Directory<")
    assert "What the parish council is doing." in html


@pytest.mark.django_db
def test_a_section_without_a_description_is_in_the_header_but_has_no_card(client):
    navigation.navigation_unregister("insight")
    navigation_register("insight", label="Insight", url_name="insight:index", order=50)

    html = client.get("/").content.decode()

    assert 'href="/insight/"' in html
    assert "Compare areas with their nearest neighbours" not in html


# --- "Your work" -----------------------------------------------------------------------------

@pytest.mark.django_db
def test_work_links_come_from_every_provider_in_order_and_a_provider_is_replaced_by_name():
    user = UserFactory()
    work_links._providers.clear()
    work_links_register("second", lambda u: [WorkLink("B", "/b/")], order=20)
    work_links_register("first", lambda u: [WorkLink("A", "/a/", count=2)], order=10)
    work_links_register("second", lambda u: [WorkLink("C", "/c/", hint="for you")], order=20)

    assert work_links_for(user=user) == [WorkLink("A", "/a/", count=2), WorkLink("C", "/c/", hint="for you")]


def test_no_work_links_for_someone_signed_out():
    from django.contrib.auth.models import AnonymousUser

    work_links_register("any", lambda u: [WorkLink("A", "/a/")])

    assert work_links_for(user=AnonymousUser()) == []


# --- Search sources --------------------------------------------------------------------------

def test_search_asks_every_source_in_order_with_the_limit_and_the_person():
    asked = []

    def source(name):
        def search(query, limit, user):
            asked.append((name, query, limit, user))
            return [SearchHit(f"{name} {i}", f"/{name}/{i}/") for i in range(limit + 3)]

        return search

    search_registry._sources.clear()
    search_source_register("later", label="Later", fn=source("later"), order=20)
    search_source_register("sooner", label="Sooner", fn=source("sooner"), order=10, more_url=lambda q: f"/s/?q={q}")

    sections = search_everywhere(query="  bins  ", limit=2, user="someone")

    assert asked == [("sooner", "bins", 2, "someone"), ("later", "bins", 2, "someone")]
    assert [(s.source.name, len(s.hits), s.more_url) for s in sections] == [("sooner", 2, "/s/?q=bins"), ("later", 2, "")]


def test_search_of_nothing_asks_no_source():
    search_registry._sources.clear()
    search_source_register("boom", label="Boom", fn=lambda q, n, u: pytest.fail("asked"))

    assert search_everywhere(query="   ", limit=5, user=None) == []


def test_registering_a_search_source_again_replaces_it():
    search_source_register("stories", label="Tales", fn=lambda q, n, u: [], order=5)

    sources = search_sources()

    assert [s.name for s in sources].count("stories") == 1
    assert sources[0].label == "Tales"


# --- Open data -------------------------------------------------------------------------------

def test_datasets_by_order_then_name_and_replaced_by_name():
    dataset_register("trees", title="Trees", description="Every tree.", order=50,
                     formats=[DatasetFormat("CSV", "core:home")])
    dataset_register("trees", title="Street trees", description="Every street tree.", order=5,
                     formats=[DatasetFormat("CSV", "core:home"), DatasetFormat("JSON", "core:privacy")])

    found = datasets()

    assert [d.name for d in found] == ["trees", "stories", "directory"]
    assert found[0].title == "Street trees"
    assert [f.label for f in found[0].formats] == ["CSV", "JSON"]
    assert found[0].licence == open_data.OGL_V3


# --- Metrics ---------------------------------------------------------------------------------

def test_a_metric_is_asked_for_its_areas_and_period_and_its_observations_come_back_sorted():
    asked = []

    def fn(areas, start, end):
        asked.append((areas, start, end))
        return [
            Observation("E09000002", dt.date(2026, 2, 1), 1),
            Observation("E09000001", dt.date(2026, 3, 1), 2),
            Observation("E09000001", dt.date(2026, 2, 1), 3),
        ]

    metric_register("trees-planted", label="Trees planted", unit="trees", description="Trees planted.", fn=fn)

    found = metric_observations("trees-planted", area_gss_codes=["E09000001"], start=dt.date(2026, 2, 1),
                                end=dt.date(2026, 3, 31))

    assert asked == [(["E09000001"], dt.date(2026, 2, 1), dt.date(2026, 3, 31))]
    assert [(o.area_gss, o.period.month) for o in found] == [("E09000001", 2), ("E09000001", 3), ("E09000002", 2)]


def test_registering_a_metric_again_replaces_it_and_a_backwards_period_is_refused():
    metric_register("trees-planted", label="Trees", unit="trees", description="", fn=lambda a, s, e: [])
    metric_register("trees-planted", label="Trees planted", unit="trees", description="",
                    fn=lambda a, s, e: [Observation("E09000001", s, 7)])

    assert metrics.metric_get("trees-planted").label == "Trees planted"
    assert metric_observations("trees-planted", area_gss_codes=None, start=dt.date(2026, 1, 1),
                               end=dt.date(2026, 1, 31))[0].value == 7
    with pytest.raises(ValueError, match="ends before it starts"):
        metric_observations("trees-planted", area_gss_codes=None, start=dt.date(2026, 2, 1), end=dt.date(2026, 1, 1))


# --- The metrics_list command ----------------------------------------------------------------

def test_metrics_list_names_every_registered_metric():
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("metrics_list", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0] == "slug,unit,label,description"
    assert [line.split(",")[0] for line in lines[1:]] == [
        "circles-active-members", "circles-help-hours", "stories-published", "stories-responded",
    ]


def test_metrics_list_prints_a_metrics_figures_as_csv():
    from io import StringIO

    from django.core.management import CommandError, call_command

    metric_register("trees-planted", label="Trees planted", unit="trees", description="",
                    fn=lambda areas, s, e: [Observation(code, s, 3) for code in areas or ["E09000009"]])
    out = StringIO()
    call_command("metrics_list", "--metric", "trees-planted", "--from", "2026-01-01", "--to", "2026-01-31",
                 "--area", "E09000001", stdout=out)

    assert out.getvalue().splitlines() == ["area_gss,period,value", "E09000001,2026-01-01,3"]
    with pytest.raises(CommandError, match="No metric"):
        call_command("metrics_list", "--metric", "nothing", "--from", "2026-01-01", "--to", "2026-01-31")
