"""PageCache: the page and static files are built once and answered from memory, compressed
once per encoding; what differs per visitor (their address, cookies, page and deep links)
never comes from it."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.testclient import TestClient

from semantify.app.page_cache import PageCache

PAGE = "<html>" + "the page " * 200 + "</html>"


@pytest.fixture
def site(tmp_path):
    built = []

    def page(request):
        built.append(request.url.path)
        return HTMLResponse(PAGE + request.headers.get("host", ""))

    def cookie(request):
        built.append("cookie")
        response = PlainTextResponse("x" * 1000)
        response.set_cookie("who", "you")
        return response

    (tmp_path / "app.js").write_text("console.log('a');" * 100)
    app = Starlette(routes=[Route("/", page), Route("/config", cookie),
                            Mount("/assets", StaticFiles(directory=tmp_path))],
                    middleware=[Middleware(PageCache, max_total=1 << 20)])
    return TestClient(app), built, tmp_path


def test_the_page_is_built_once_and_compressed_once_per_encoding(site):
    client, built, _ = site
    plain = client.get("/", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and plain.text.startswith(PAGE)
    for encoding in ("br", "gzip", "br", "gzip"):
        response = client.get("/", headers={"Accept-Encoding": encoding})
        assert response.headers["content-encoding"] == encoding
        assert response.text == plain.text  # decoded by the client
        assert int(response.headers["content-length"]) < len(plain.content) / 5
    assert built == ["/"]
    assert client.get("/?utm=1&x=2").text == plain.text and built == ["/"]  # query ignored


def test_what_differs_per_visitor_is_not_shared(site):
    client, built, _ = site
    assert client.get("/").text.endswith("testserver")
    assert client.get("/", headers={"Host": "other.example"}).text.endswith("other.example")
    assert built == ["/", "/"]  # the address the visitor used is part of the key
    client.get("/?page=x")
    client.get("/?deep_link=abc")
    assert len(built) == 4  # pages and deep links are never kept
    client.get("/config")
    client.get("/config")
    assert built.count("cookie") == 2  # an answer setting a cookie is not kept


def test_static_files_are_kept_and_bounded(site):
    client, _, folder = site
    first = client.get("/assets/app.js")
    (folder / "app.js").write_text("changed")
    assert client.get("/assets/app.js").text == first.text  # answered from memory
    assert client.get("/assets/missing.js").status_code == 404  # errors pass through
    (folder / "big.js").write_text("y" * (2 << 20))
    assert client.get("/assets/big.js", headers={"Accept-Encoding": "identity"}).text == \
        "y" * (2 << 20)
    assert client.get("/assets/app.js").text == "changed"  # the 1 MB budget pushed it out


def test_the_real_page_comes_compressed_and_whole(word_app):
    url, _ = word_app
    first = httpx.get(url, headers={"Accept-Encoding": "br"})
    second = httpx.get(url, headers={"Accept-Encoding": "br"})
    assert first.headers["content-encoding"] == "br"
    assert first.text == second.text and "gradio_config" in first.text
    asset = next(part.split('"')[0] for part in first.text.split('src="')[1:]
                 if "/assets/" in part.split('"')[0])
    assert httpx.get(url.rstrip("/") + "/" + asset.lstrip("./")).status_code == 200
