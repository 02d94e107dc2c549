"""A public server's visitor finds their own builds again after a page reload, and no one else
does: the browser keeps a visitor key the server made (semantify/app/visitors.py).

Real Gradio server in public mode, Debian's Chromium (one browser context per visitor). The
set's ownership is marked through the catalog's own ``add_owner`` (what a build in the app
does when it is queued); builds themselves are tested in test_first_build.py and
test_build_queue.py.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import shutil
from pathlib import Path

import pytest

from conftest import api_client, launch_local, needs_chromium
from semantify.app import visitors

gradio_client = pytest.importorskip("gradio_client")
KEY = "0123456789abcdef" * 2  # the key the server gives the first visitor below
JUNK = ["../../etc", "x" * 10_000, KEY.upper(), KEY + "\n", KEY[:-1], "sessions/" + KEY[:23],
        {"key": KEY}, [KEY], 12345]


@dataclasses.dataclass(frozen=True)
class Served:
    """A public server whose cache holds a set built in the app for visitor KEY."""

    url: str
    cache: Path
    catalog: object  # the app's Catalog
    folder: Path  # the visitor's set

    @property
    def label(self) -> str:
        """What the picker shows for the visitor's set."""
        from semantify.app.catalog import set_id

        return self.catalog.get(set_id(self.folder)).label


@pytest.fixture(scope="module")
def server(tmp_path_factory, word_set):
    from semantify.app.catalog import add_owner

    cache = tmp_path_factory.mktemp("visitor")
    mine = (cache / "sliders" / "visitor-words").resolve()
    shutil.copytree(word_set[1], mine)
    add_owner(mine, KEY)
    saved = os.environ.get("SEMANTIFY_CACHE_DIR")
    os.environ["SEMANTIFY_CACHE_DIR"] = str(cache)
    from semantify.app import AppConfig, build_app
    from semantify.app.blocks import server_options

    demo = build_app(AppConfig.create([], public=True))
    launch_local(demo, **server_options(public=True))
    yield Served(demo.local_url, cache, demo.catalog, mine)
    demo.close()
    if saved is None:
        os.environ.pop("SEMANTIFY_CACHE_DIR", None)
    else:
        os.environ["SEMANTIFY_CACHE_DIR"] = saved


def _choices(page) -> list[str]:
    """Every entry the page's picker lists (once the page load has filled it)."""
    page.wait_for_function("document.querySelector('#picker input')?.value", timeout=300_000)
    page.locator("#picker input").click()
    options = page.get_by_role("option")
    options.first.wait_for(timeout=300_000)
    names = options.all_inner_texts()
    page.keyboard.press("Escape")
    return names


def _claims(monkeypatch) -> list[tuple[str, str]]:
    """Record every (session token, visitor key) the catalog is told on page load (the real
    claim still runs)."""
    seen = []
    claim = visitors.Visitors.claim

    def recorded(self, token, key):
        seen.append((token, key))
        return claim(self, token, key)
    monkeypatch.setattr(visitors.Visitors, "claim", recorded)
    return seen


@needs_chromium
@pytest.mark.slow
def test_a_reload_lists_the_visitors_own_build_and_another_visitor_never_sees_it(
        server, browser, monkeypatch):
    made = iter([KEY])  # the first key the server makes is the one that owns the set
    fresh = visitors.new_key
    monkeypatch.setattr(visitors, "new_key", lambda: next(made, None) or fresh())
    claims = _claims(monkeypatch)
    name = server.label

    mine = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = mine.new_page()
    page.goto(server.url, timeout=300_000)
    assert any(name in choice for choice in _choices(page))
    assert claims[-1][1] == KEY
    stored = page.evaluate(f"localStorage.getItem({visitors.STORAGE_KEY!r})")
    assert stored and KEY not in stored  # kept by this browser (obfuscated by Gradio)

    page.reload()  # a new session token, the same visitor: the set is still listed
    assert any(name in choice for choice in _choices(page))
    assert claims[-1][1] == KEY and claims[-1][0] != claims[0][0]
    assert not (server.cache / "sessions" / KEY).exists()  # the key names no folder
    mine.close()

    # Another visitor: a key of their own, and not the set.
    other = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = other.new_page()
    page.goto(server.url, timeout=300_000)
    choices = _choices(page)
    assert choices and not any(name in choice for choice in choices), choices
    assert claims[-1][1] != KEY
    other.close()


def _start(server, sent) -> str:
    """Start a page through the API sending ``sent`` as the browser's key; the key the server
    gives back (the last output)."""
    client = api_client(server.url)
    return client.predict(sent, api_name="/start")[-1]


@pytest.mark.slow
@pytest.mark.parametrize("sent", JUNK, ids=lambda s: re.sub(r"\W", "_", repr(s))[:24])
def test_a_junk_key_is_replaced_and_gives_nothing(server, sent, monkeypatch, caplog):
    claims = _claims(monkeypatch)
    before = {p.name for p in server.cache.rglob("*")}
    with caplog.at_level(logging.INFO, logger="semantify.app"):
        given = _start(server, sent)
    assert visitors.KEY.fullmatch(given) and given != KEY, given
    [(token, claimed)] = claims
    assert claimed == given and token != given
    catalog = server.catalog
    assert all(e.folder != server.folder for e in catalog.visible(token))
    after = {p.name for p in server.cache.rglob("*")} - before
    assert not any(str(sent) in name or given in name or ".." in name for name in after)
    logged = [r.getMessage() for r in caplog.records if "visitor key" in r.getMessage()]
    assert logged == ["semantify app: a page sent a malformed visitor key; it gets a new one"]
    assert str(sent)[:8] not in logged[0]


@pytest.mark.slow
def test_only_the_exact_key_gives_a_visitors_sets(server, monkeypatch):
    claims = _claims(monkeypatch)
    assert _start(server, KEY) == KEY  # a key of the right format is kept as it is ...
    assert _start(server, None) not in (KEY, None)  # ... none sent: a fresh one
    forged = KEY[:-1] + "1"  # a well-formed key that is not the owner's
    assert _start(server, forged) == forged
    catalog = server.catalog
    seen = {key: [e.folder for e in catalog.visible(token)] for token, key in claims}
    assert server.folder in seen[KEY]
    assert all(server.folder not in folders for key, folders in seen.items()
               if key != KEY)
    from semantify.app.catalog import set_id
    from semantify.errors import SemantifyError

    for token, key in claims:  # opening the set by its id needs the key too
        if key == KEY:
            assert catalog.get(set_id(server.folder), token).folder == server.folder
        else:
            with pytest.raises(SemantifyError, match="unknown choice"):
                catalog.get(set_id(server.folder), token)


def test_keys_are_checked_by_format_and_remembered_per_page_load():
    for sent in JUNK:
        checked = visitors.checked(sent)
        assert checked.junk and checked.fresh and checked.key != sent
    assert visitors.checked(None).fresh and not visitors.checked(None).junk
    assert visitors.checked(KEY) == visitors.Checked(KEY)
    remembered = visitors.Visitors(cap=2)
    remembered.claim("load-1", KEY)
    remembered.claim("load-2", visitors.new_key())
    remembered.claim("load-3", KEY)
    assert remembered.key_of("load-1") is None and remembered.key_of("load-3") == KEY
    with pytest.raises(ValueError):
        remembered.claim("load-4", "../../etc")
