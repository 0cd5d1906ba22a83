"""The adapter on the real engine, through the OpenAI Python SDK."""

import base64
import os

import httpx
import openai
import pytest

from framestamp.serving.inject import group_timestamps
from framestamp.serving.options import DEEPSTACK_NOTE
from framestamp.serving.sampling import SamplingPolicy
from framestamp.serving.video import sample_frames

pytestmark = pytest.mark.engine
MODEL = "tiny-qwen3-vl"


def ask(client, url, temporal=None, **kwargs):
    return client.chat.completions.create(
        model=MODEL,
        max_tokens=kwargs.pop("max_tokens", 8),
        messages=[{"role": "user", "content": [
            {"type": "video_url", "video_url": {"url": url}},
            {"type": "text", "text": "When does the colour change?"},
        ]}],
        extra_body={**({"temporal": temporal} if temporal is not None else {}), **kwargs.pop("extra_body", {})},
        **kwargs,
    )


def test_video_by_file_path_gets_exact_frame_times(client, two_speed_clip):
    response = ask(client, two_speed_clip.path.as_uri())
    temporal = response.temporal
    expected = sample_frames(two_speed_clip.path, SamplingPolicy(fps=2, max_frames=48, max_visual_tokens=2048))
    assert temporal["frame_times"] == [round(t, 6) for t in expected.times]
    assert all(t in two_speed_clip.frame_times for t in expected.times)
    assert temporal["granularity"] == "second"
    assert temporal["duration"] == pytest.approx(two_speed_clip.duration, abs=0.25)
    assert isinstance(temporal["events"], list)
    assert response.usage.prompt_tokens > 0


def test_prompt_carries_the_exact_markers(client, tokenizer, two_speed_clip):
    response = ask(client, two_speed_clip.path.as_uri(), {"fps": 1}, extra_body={"return_token_ids": True})
    seen = tokenizer.decode(response.prompt_token_ids)
    for marker in group_timestamps(response.temporal["frame_times"]):
        assert marker in seen


def test_video_by_data_url(client, vfr_clip):
    url = "data:video/mp4;base64," + base64.b64encode(vfr_clip.path.read_bytes()).decode()
    response = ask(client, url, {"temporal_granularity": "subsecond", "use_deepstack": True})
    assert response.temporal["granularity"] == "subsecond"
    assert DEEPSTACK_NOTE in response.temporal["warnings"]
    assert response.temporal["frame_times"][0] == 0.0


def test_window_and_fps_options(client, vfr_clip):
    response = ask(client, vfr_clip.path.as_uri(), {"fps": 1, "start": 5, "end": 10, "temporal_granularity": "coarse"})
    times = response.temporal["frame_times"]
    assert 4 <= len(times) <= 6 and all(5 <= t < 10 for t in times)


def test_return_timestamps_false_gives_no_events(client, vfr_clip):
    response = ask(client, vfr_clip.path.as_uri(), {"return_timestamps": False})
    assert response.temporal["events"] is None


def test_temporal_modeling_off_sends_the_video_as_is(client, vfr_clip):
    response = ask(client, vfr_clip.path.as_uri(), {"enable_temporal_modeling": False})
    assert response.choices[0].message.content is not None
    assert getattr(response, "temporal", None) is None


def test_streaming_keeps_usage_and_ends_with_events(client, vfr_clip):
    # ignore_eos: the random checkpoint may pick end-of-text first; this is about streaming.
    stream = ask(client, vfr_clip.path.as_uri(), {}, stream=True, stream_options={"include_usage": True},
                 extra_body={"ignore_eos": True})
    chunks = list(stream)
    assert any(c.choices and c.choices[0].delta.content for c in chunks)
    assert any(c.usage is not None and c.usage.completion_tokens > 0 for c in chunks)
    final = chunks[-1]
    assert final.choices == [] and isinstance(final.temporal["events"], list)
    assert final.temporal["frame_times"]


def test_text_only_requests_pass_through(client):
    response = client.chat.completions.create(model=MODEL, max_tokens=3, messages=[{"role": "user", "content": "hi"}])
    assert response.choices[0].message.content is not None


def test_models_health_and_metrics(adapter, client):
    assert [m.id for m in client.models.list()] == [MODEL]
    health = httpx.get(f"{adapter.url}/health")
    assert health.status_code == 200 and health.json()["engine"] == "up"
    metrics = httpx.get(f"{adapter.url}/metrics").text
    assert "framestamp_frames_sampled_total" in metrics and "framestamp_requests_total" in metrics


def write(path, data: bytes):
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def bad_files(clip_dir, cfr_clip, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    secret = write(outside / "secret.mp4", cfr_clip.path.read_bytes())
    link = clip_dir / "escape.mp4"
    if not link.exists():
        os.symlink(secret, link)
    return {
        "text": write(clip_dir / "notes.mp4", b"just some text, not a video\n" * 50),
        "truncated": write(clip_dir / "truncated.mp4", cfr_clip.path.read_bytes()[:20_000]),
        "empty": write(clip_dir / "empty.mp4", b""),
        "big": write(clip_dir / "big.mp4", b"\0" * (9 * 2**20)),
        "outside": secret,
        "link": link,
    }


@pytest.mark.parametrize(
    "case,status,code",
    [
        ("missing", 404, "video_not_found"),
        ("dotdot", 403, "media_path_forbidden"),
        ("outside", 403, "media_path_forbidden"),
        ("link", 403, "media_path_forbidden"),
        ("text", 400, "invalid_video"),
        ("truncated", 400, "invalid_video"),
        ("empty", 400, "invalid_video"),
        ("big", 413, "video_too_large"),
        ("private_url", 400, "remote_urls_disabled"),
        ("bad_data_url", 400, "invalid_video_url"),
    ],
)
def test_bad_videos_get_openai_errors_and_the_service_keeps_serving(client, clip_dir, bad_files, vfr_clip, case, status, code):
    urls = {
        "missing": (clip_dir / "nope.mp4").as_uri(),
        "dotdot": "file://" + str(clip_dir) + "/../outside/secret.mp4",
        "private_url": "http://169.254.169.254/latest/video.mp4",
        "bad_data_url": "data:video/mp4;base64,@@@not-base64@@@",
    }
    url = urls.get(case) or bad_files[case].as_uri()
    with pytest.raises(openai.APIStatusError) as err:
        ask(client, url)
    assert err.value.status_code == status
    assert err.value.body["code"] == code and err.value.body["message"]
    assert ask(client, vfr_clip.path.as_uri(), {"fps": 0.5}).temporal["frame_times"]


@pytest.mark.parametrize(
    "temporal,param",
    [
        ({"fps": 0}, "temporal.fps"),
        ({"fps": "fast"}, "temporal.fps"),
        ({"temporal_granularity": "minute"}, "temporal.temporal_granularity"),
        ({"start": 5, "end": 2}, "temporal"),
        ({"max_frames": 1}, "temporal.max_frames"),
        ({"unknown_option": True}, "temporal.unknown_option"),
        ({"start": 500}, "temporal"),
    ],
)
def test_bad_options_get_400_with_the_param(client, vfr_clip, temporal, param):
    with pytest.raises(openai.BadRequestError) as err:
        ask(client, vfr_clip.path.as_uri(), temporal)
    assert err.value.body["param"] == param


def test_wrong_api_key_gets_401(adapter, vfr_clip):
    with openai.OpenAI(base_url=f"{adapter.url}/v1", api_key="wrong", max_retries=0) as bad:
        with pytest.raises(openai.AuthenticationError) as err:
            ask(bad, vfr_clip.path.as_uri())
    assert err.value.status_code == 401


def test_engine_down_gets_503_with_retry_after(clip_dir, vfr_clip):
    from conftest import ServerThread, free_port

    from framestamp.serving.adapter import AdapterConfig, create_app

    config = AdapterConfig(engine_url=f"http://127.0.0.1:{free_port()}", media_dir=clip_dir)
    with ServerThread(create_app(config)) as server:
        with openai.OpenAI(base_url=f"{server.url}/v1", api_key="x", max_retries=0) as c:
            with pytest.raises(openai.InternalServerError) as err:
                ask(c, vfr_clip.path.as_uri())
        assert err.value.status_code == 503
        assert err.value.response.headers["retry-after"] == "5"
        assert httpx.get(f"{server.url}/health").status_code == 503


def _metric(client_url, name):
    text = httpx.get(f"{client_url}/metrics").text
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " ")
               or line.startswith(name + "_total "))


def test_second_question_on_a_video_needs_no_decode(adapter, client, cfr_clip):
    first = ask(client, cfr_clip.path.as_uri(), {"fps": 0.5})
    hits, misses = _metric(adapter.url, "framestamp_frame_cache_hits"), _metric(adapter.url, "framestamp_frame_cache_misses")
    second = ask(client, cfr_clip.path.as_uri(), {"fps": 0.5})
    assert _metric(adapter.url, "framestamp_frame_cache_hits") == hits + 1
    assert _metric(adapter.url, "framestamp_frame_cache_misses") == misses
    assert second.temporal["frame_times"] == first.temporal["frame_times"]
    ask(client, cfr_clip.path.as_uri(), {"fps": 0.25})  # other sampling: decoded again
    assert _metric(adapter.url, "framestamp_frame_cache_misses") == misses + 1
