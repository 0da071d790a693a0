"""English and Welsh: the language switch, and the catalogue that backs it."""

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

pytestmark = pytest.mark.django_db

CATALOGUE = Path(__file__).parents[2] / "src/localsocial/locale/cy/LC_MESSAGES/django.po"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|\{\}")


def switch_to_welsh(client):
    return client.post("/i18n/setlang/", {"language": "cy", "next": "/directory/"})


def test_the_language_switch_returns_to_the_same_page_in_welsh(client):
    response = switch_to_welsh(client)
    assert response.status_code == 302
    assert response["Location"] == "/directory/"
    html = client.get("/").content.decode()
    assert '<html lang="cy"' in html
    for welsh in ["Straeon", "Cylchoedd", "Cyfeiriadur", "Mewngofnodi", "Creu cyfrif", "prif gynnwys"]:
        assert welsh in html, welsh


def test_welsh_form_errors_come_from_our_catalogue_and_the_framework(client):
    switch_to_welsh(client)
    html = client.post("/accounts/sign-in/", {"email": "", "password": ""}).content.decode()
    assert '<html lang="cy"' in html
    assert "There is a problem" not in html
    assert "Mae problem wedi codi" in html


def test_switching_back_to_english(client):
    switch_to_welsh(client)
    client.post("/i18n/setlang/", {"language": "en-gb", "next": "/"})
    html = client.get("/").content.decode()
    assert '<html lang="en-gb"' in html
    assert ">Stories<" in html or "Stories" in html


def test_every_string_is_translated_and_keeps_its_placeholders():
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    missing, broken = [], []
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            missing.append(ids[0])
            continue
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for text in strings:
            if set(PLACEHOLDER.findall(text)) - set().union(*(PLACEHOLDER.findall(i) for i in ids)) or (
                wanted and not set(PLACEHOLDER.findall(text)) and "%(count)" not in "".join(ids)
            ):
                broken.append(ids[0])
    assert missing == [], f"{len(missing)} untranslated, e.g. {missing[:5]}"
    assert broken == [], f"placeholders changed in {broken[:5]}"


def test_the_welsh_catalogue_holds_every_string_in_the_code(tmp_path):
    # What `make messages` would extract: a string added without running it (and translating)
    # would be shown in English on a Welsh page.
    import subprocess
    import sys

    root = Path(__file__).parents[2]
    pot = tmp_path / "django.pot"
    keywords = ["_", "gettext", "gettext_lazy", "gettext_noop", "ngettext:1,2", "pgettext:1c,2", "pgettext_lazy:1c,2"]
    command = [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "--no-location", "-o", str(pot)]
    for keyword in keywords:
        command += ["-k", keyword]
    subprocess.run([*command, "."], cwd=root, check=True, capture_output=True)
    with pot.open("rb") as handle:
        wanted = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in read_po(handle) if m.id}
    with CATALOGUE.open("rb") as handle:
        have = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in read_po(handle) if m.id}
    missing = sorted(str(m[1]) for m in wanted - have)
    assert missing == [], f"{len(missing)} strings are not in the Welsh catalogue (run `make messages`), e.g. {missing[:5]}"
