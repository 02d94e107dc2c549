"""NewSessions: an address opens a bounded number of new sessions; a session already open,
and other addresses, are never refused; the request reaches the app whole."""

from __future__ import annotations

import json

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from semantify.app.new_sessions import NewSessions


@pytest.fixture
def app(monkeypatch):
    monkeypatch.setenv("SEMANTIFY_BEHIND_PROXY", "1")  # addresses from X-Forwarded-For
    seen = []

    async def echo(request):
        body = await request.body()
        seen.append(json.loads(body).get("session_hash") if body[:1] == b"{" else body)
        return JSONResponse({"ok": True})

    routes = [Route(path, echo, methods=["POST"]) for path in (
        "/gradio_api/component_server", "/gradio_api/queue/join", "/gradio_api/run/predict",
        "/gradio_api/upload")]
    server = Starlette(routes=routes, middleware=[
        Middleware(NewSessions, burst=3, per_minute=1e-6, max_body=1000)])
    return TestClient(server), seen


def post(client, path, session, address="10.0.0.1", **extra):
    return client.post(f"/gradio_api/{path}", json={"session_hash": session, **extra},
                       headers={"X-Forwarded-For": address})


def test_an_address_opens_its_burst_then_one_line(app):
    client, seen = app
    assert [post(client, "component_server", f"s{i}").status_code for i in range(3)] == \
        [200] * 3
    refused = post(client, "queue/join", "s3")
    assert refused.status_code == 429 and "\n" not in refused.text.strip()
    assert "too many new sessions" in refused.text
    assert post(client, "run/predict", "s0").status_code == 200  # open sessions go on
    assert post(client, "component_server", "t0", address="10.0.0.2").status_code == 200
    assert seen == ["s0", "s1", "s2", "s0", "t0"]  # whole bodies reached the app


def test_bodies_are_bounded_and_other_routes_pass(app):
    client, seen = app
    big = post(client, "component_server", "s0", data="x" * 2000)
    assert big.status_code == 413 and "at most" in big.text
    for i in range(5):  # not a route that names a session
        assert client.post("/gradio_api/upload", content=b"abc").status_code == 200
    junk = client.post("/gradio_api/queue/join", content=b"not json")
    assert junk.status_code == 200  # Gradio answers it; no session was named
    assert seen == [b"abc"] * 5 + [b"not json"]
