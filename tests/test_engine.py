"""The real vLLM engine on the test checkpoint, through the OpenAI SDK."""

import re

import openai
import pytest

from framestamp.serving.inject import engine_video, group_timestamps
from framestamp.serving.sampling import SamplingPolicy
from framestamp.serving.video import sample_frames

pytestmark = pytest.mark.engine
MODEL = "tiny-qwen3-vl"
MARKER = re.compile(r"<\d+\.\d seconds>")


def seen_markers(response, tokenizer) -> list[str]:
    return MARKER.findall(tokenizer.decode(response.prompt_token_ids))


def marker_seconds(markers: list[str]) -> list[float]:
    return [float(m[1:].split()[0]) for m in markers]


def test_chat_with_an_mp4_returns_a_completion_with_usage(engine_client, cfr_clip):
    response = engine_client.chat.completions.create(
        model=MODEL,
        max_tokens=8,
        messages=[{"role": "user", "content": [
            {"type": "video_url", "video_url": {"url": cfr_clip.path.as_uri()}},
            {"type": "text", "text": "When does the colour change?"},
        ]}],
    )
    assert response.choices[0].message.content is not None
    assert response.usage.prompt_tokens > 0 and response.usage.completion_tokens > 0


def test_exact_frame_times_reach_the_prompt(engine_client, tokenizer, vfr_clip):
    sampled = sample_frames(vfr_clip.path, SamplingPolicy(fps=2, max_frames=40))
    video = engine_video(sampled, uuid="vfr-test")
    response = engine_client.chat.completions.create(
        model=MODEL,
        max_tokens=4,
        messages=[{"role": "user", "content": [video.part, {"type": "text", "text": "when?"}]}],
        extra_body={"media_io_kwargs": video.media_io_kwargs, "return_token_ids": True},
    )
    markers = seen_markers(response, tokenizer)
    assert markers == group_timestamps(sampled.times)
    # The frames really are the clip's own: the last marker is within a
    # second of the clip's last frame.
    assert abs(marker_seconds(markers)[-1] - vfr_clip.frame_times[-1]) < 1.0


def test_default_path_is_seconds_off_where_framestamp_is_exact(engine_client, tokenizer, two_speed_clip):
    """vLLM's own loader times frames by index / average fps (FACTS.md)."""
    from vllm.multimodal.video import VIDEO_LOADER_REGISTRY

    def ask(content_part, extra):
        return engine_client.chat.completions.create(
            model=MODEL, max_tokens=2,
            messages=[{"role": "user", "content": [content_part, {"type": "text", "text": "when?"}]}],
            extra_body={"return_token_ids": True, **extra},
        )

    default = ask({"type": "video_url", "video_url": {"url": two_speed_clip.path.as_uri()}}, {})
    # The frames the default path picked, and when they really are shown.
    _, meta = VIDEO_LOADER_REGISTRY.load("opencv").load_bytes(two_speed_clip.path.read_bytes(), num_frames=32)
    true_times = [two_speed_clip.frame_times[i] for i in meta["frames_indices"]]
    default_error = max(
        abs(a - b)
        for a, b in zip(marker_seconds(seen_markers(default, tokenizer)), marker_seconds(group_timestamps(true_times)))
    )
    assert default_error > 2.0

    sampled = sample_frames(two_speed_clip.path, SamplingPolicy(fps=2))
    video = engine_video(sampled, uuid="two-speed")
    ours = ask(video.part, {"media_io_kwargs": video.media_io_kwargs})
    assert seen_markers(ours, tokenizer) == group_timestamps(sampled.times)
    assert all(t in two_speed_clip.frame_times for t in sampled.times)


def test_streaming_with_usage(engine_client, vfr_clip):
    sampled = sample_frames(vfr_clip.path, SamplingPolicy(fps=1))
    video = engine_video(sampled, uuid="vfr-stream")
    stream = engine_client.chat.completions.create(
        model=MODEL,
        max_tokens=6,
        stream=True,
        stream_options={"include_usage": True},
        messages=[{"role": "user", "content": [video.part, {"type": "text", "text": "when?"}]}],
        # The random checkpoint may pick end-of-text first; the test is about streaming.
        extra_body={"media_io_kwargs": video.media_io_kwargs, "ignore_eos": True},
    )
    chunks = list(stream)
    assert any(c.choices and c.choices[0].delta.content for c in chunks)
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


def test_bad_request_gets_an_openai_error(engine_client, vfr_clip):
    sampled = sample_frames(vfr_clip.path, SamplingPolicy(fps=1))
    video = engine_video(sampled, uuid="bad")
    kwargs = {"video": {**video.media_io_kwargs["video"], "frames_indices": [0, 1]}}
    with pytest.raises(openai.BadRequestError) as err:
        engine_client.chat.completions.create(
            model=MODEL,
            max_tokens=4,
            messages=[{"role": "user", "content": [video.part, {"type": "text", "text": "when?"}]}],
            extra_body={"media_io_kwargs": kwargs},
        )
    assert err.value.status_code == 400
    # The engine keeps serving.
    ok = engine_client.chat.completions.create(model=MODEL, max_tokens=2, messages=[{"role": "user", "content": "hi"}])
    assert ok.choices
