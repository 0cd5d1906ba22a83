"""Two real engines behind one adapter: same video, same engine; failover when one dies."""

import httpx
import pytest

from framestamp.serving.routing import EngineRouter
from tests.conftest import ServerThread, running_engine

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def second_engine(test_model, clip_dir):
    with running_engine(test_model, clip_dir, "engine-2.log") as process:
        yield process


@pytest.fixture(scope="module")
def routed(engine, second_engine, clip_dir):
    from framestamp.serving.adapter import AdapterConfig, create_app

    config = AdapterConfig(engine_urls=(engine.config.url, second_engine.config.url), media_dir=clip_dir,
                           max_visual_tokens=2048, default_max_frames=16, health_interval=0.5)
    with ServerThread(create_app(config)) as server:
        yield server


def ask(adapter, path):
    response = httpx.post(f"{adapter.url}/v1/chat/completions", timeout=120, json={
        "model": "tiny-qwen3-vl", "max_tokens": 2,
        "messages": [{"role": "user", "content": [
            {"type": "video_url", "video_url": {"url": path.as_uri()}}, {"type": "text", "text": "q"}]}],
        "temporal": {"fps": 1},
    })
    return response.status_code, response.headers.get("x-framestamp-engine")


def distinct_copies(clip, count):
    data = clip.path.read_bytes()
    copies = []
    for i in range(count):
        path = clip.path.with_name(f"routed-{i}.mp4")
        path.write_bytes(data + (16).to_bytes(4, "big") + b"free" + i.to_bytes(8, "big"))
        copies.append(path)
    return copies


def test_ring_is_stable_and_moves_only_the_dead_engines_share():
    router = EngineRouter.create(["http://a:1", "http://b:2", "http://c:3"], api_key=None, timeout=1)
    keys = [f"video-{i}" for i in range(300)]
    before = {k: router.candidates(k)[0].url for k in keys}
    assert len(set(before.values())) == 3
    router.engines[1].healthy = False
    after = {k: router.candidates(k)[0].url for k in keys}
    assert all(after[k] == before[k] for k in keys if before[k] != "http://b:2")
    assert "http://b:2" not in after.values()


def test_same_video_same_engine_and_failover(routed, engine, second_engine, vfr_clip):
    copies = distinct_copies(vfr_clip, 8)
    owners = {path: ask(routed, path) for path in copies}
    assert all(status == 200 for status, _ in owners.values())
    for path in copies[:4]:
        assert ask(routed, path) == owners[path]  # sticky
    assert {owner for _, owner in owners.values()} == {engine.config.url, second_engine.config.url}

    moved = [path for path, (_, owner) in owners.items() if owner == second_engine.config.url]
    second_engine.stop()
    results = [ask(routed, path) for path in moved]
    assert all(status == 200 and owner == engine.config.url for status, owner in results)
    health = httpx.get(f"{routed.url}/health").json()
    assert health["status"] == "ok"
    assert {e["url"]: e["up"] for e in health["engines"]} == {engine.config.url: True, second_engine.config.url: False}
