"""http(s) video fetching: allow-list, address checks, redirects, limits (a local server, no engine)."""

import asyncio

import pytest
from starlette.applications import Starlette
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from framestamp.serving.errors import APIError
from framestamp.serving.fetch import FetchPolicy, _public, fetch_video
from tests.conftest import ServerThread

BODY = b"\x00\x00\x00\x18ftypmp42" + b"v" * 5000


async def _slow(request):
    async def body():
        yield b"x"
        await asyncio.sleep(5)
        yield b"y"

    return StreamingResponse(body())


async def _chunked_big(request):
    async def body():
        for _ in range(20):
            yield b"z" * 1000

    return StreamingResponse(body())


@pytest.fixture(scope="module")
def origin():
    app = Starlette(routes=[
        Route("/clip.mp4", lambda r: Response(BODY, media_type="video/mp4")),
        Route("/hop", lambda r: RedirectResponse("/clip.mp4")),
        Route("/away", lambda r: RedirectResponse("http://169.254.169.254/latest/meta-data")),
        Route("/loop", lambda r: RedirectResponse("/loop")),
        Route("/missing", lambda r: Response(b"no", status_code=404)),
        Route("/slow", _slow),
        Route("/big", _chunked_big),
    ])
    with ServerThread(app) as server:
        yield server


def fetch(url, **policy):
    return asyncio.run(fetch_video(url, FetchPolicy(**policy)))


def error(url, **policy) -> APIError:
    with pytest.raises(APIError) as caught:
        fetch(url, **policy)
    return caught.value


LOCAL = {"allowed_hosts": frozenset({"127.0.0.1", "localhost"}), "allow_private_networks": True}


def test_off_unless_hosts_are_allowed(origin):
    assert error(f"{origin.url}/clip.mp4").code == "remote_urls_disabled"


def test_allowed_host_on_a_permitted_network_is_fetched(origin):
    assert fetch(f"{origin.url}/clip.mp4", **LOCAL) == BODY
    assert fetch(f"{origin.url}/hop", **LOCAL) == BODY  # redirect followed, and checked again


def test_private_and_loopback_addresses_are_refused(origin):
    e = error(f"{origin.url}/clip.mp4", allowed_hosts=frozenset({"127.0.0.1"}))
    assert (e.status, e.code) == (403, "remote_url_forbidden") and "non-public" in e.message
    port = origin.url.rsplit(":", 1)[1]
    assert error(f"http://localhost:{port}/clip.mp4", allowed_hosts=frozenset({"localhost"})).status == 403


def test_hosts_off_the_list_and_redirects_to_them_are_refused(origin):
    assert error("http://example.org/v.mp4", allowed_hosts=frozenset({"videos.example.com"})).status == 403
    e = error(f"{origin.url}/away", **LOCAL)  # 169.254.169.254 is not on the list
    assert e.status == 403


def test_redirect_loops_errors_and_limits(origin):
    assert error(f"{origin.url}/loop", **LOCAL).code == "remote_fetch_failed"
    assert error(f"{origin.url}/missing", **LOCAL).code == "remote_fetch_failed"
    assert error(f"{origin.url}/clip.mp4", max_bytes=1000, **LOCAL).status == 413  # Content-Length
    assert error(f"{origin.url}/big", max_bytes=5000, **LOCAL).status == 413  # streamed, no length
    assert error(f"{origin.url}/slow", timeout=1.0, **LOCAL).status == 504
    assert error("ftp://127.0.0.1/x", **LOCAL).code == "invalid_video_url"
    assert error(f"http://user:pw@127.0.0.1:{origin.port}/clip.mp4", **LOCAL).code == "invalid_video_url"


@pytest.mark.parametrize("address,public", [
    ("8.8.8.8", True), ("2606:4700:4700::1111", True), ("10.1.2.3", False), ("192.168.0.1", False),
    ("127.0.0.1", False), ("169.254.169.254", False), ("::1", False), ("::ffff:127.0.0.1", False),
    ("fe80::1", False), ("0.0.0.0", False), ("224.0.0.1", False), ("100.64.0.1", False),
])
def test_public_address_check(address, public):
    assert _public(address) is public


def test_host_patterns():
    policy = FetchPolicy(allowed_hosts=frozenset({"*.example.com", "cdn.test"}))
    assert policy.host_allowed("a.example.com") and policy.host_allowed("CDN.test.")
    assert not policy.host_allowed("example.com.evil.org") and not policy.host_allowed("badexample.com")


def test_adapter_refuses_private_urls_with_or_without_temporal_modeling(origin, tmp_path):
    import httpx

    from framestamp.serving.adapter import AdapterConfig, create_app

    config = AdapterConfig(engine_url="http://127.0.0.1:9", fetch=FetchPolicy(allowed_hosts=frozenset({"127.0.0.1"})))
    with ServerThread(create_app(config)) as adapter:
        for temporal in ({}, {"enable_temporal_modeling": False}):
            response = httpx.post(f"{adapter.url}/v1/chat/completions", json={
                "model": "m", "temporal": temporal,
                "messages": [{"role": "user", "content": [
                    {"type": "video_url", "video_url": {"url": f"{origin.url}/clip.mp4"}}]}],
            })
            assert response.status_code == 403
            assert response.json()["error"]["code"] == "remote_url_forbidden"
