"""Long videos: window planning and merging (pure), and windows on the real engine."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from framestamp.serving.events import Event
from framestamp.serving.windows import merge_window_events, plan_windows, reduce_prompt


def test_short_videos_are_one_request():
    assert plan_windows(start=0, end=60, fps=2, max_frames=256).strategy == "single"


def test_auto_downsamples_while_at_least_half_the_frames_fit():
    plan = plan_windows(start=0, end=200, fps=2, max_frames=256)  # 400 wanted, 256 fit
    assert plan.strategy == "downsample" and plan.windows == ((0, 200),)


def test_auto_splits_into_overlapping_windows_covering_the_video():
    plan = plan_windows(start=0, end=3600, fps=1, max_frames=256)
    assert plan.strategy == "windows"
    assert plan.windows[0][0] == 0 and plan.windows[-1][1] == pytest.approx(3600)
    for (a_start, a_end), (b_start, _) in zip(plan.windows, plan.windows[1:]):
        assert b_start < a_end  # overlap: an event on a cut is seen whole in one window
    assert all((end - start) * 1 <= 256 + 1e-6 for start, end in plan.windows)


@given(st.floats(10, 20_000), st.floats(0.1, 4), st.integers(8, 768))
def test_windows_always_cover_the_span_within_the_cap(span, fps, max_frames):
    plan = plan_windows(start=5, end=5 + span, fps=fps, max_frames=max_frames, mode="windows")
    assert plan.windows[0][0] == 5 and plan.windows[-1][1] == pytest.approx(5 + span)
    assert all(b[0] <= a[1] + 1e-6 for a, b in zip(plan.windows, plan.windows[1:]))
    assert len(plan.windows) <= 16


def test_forced_modes():
    assert plan_windows(start=0, end=3600, fps=1, max_frames=256, mode="downsample").strategy == "downsample"
    assert plan_windows(start=0, end=300, fps=1, max_frames=256, mode="windows").strategy == "windows"


def test_merge_drops_overlap_duplicates_and_keeps_order():
    first = [Event(10, 12, "a person enters"), Event(290, None, "the door closes")]
    second = [Event(290.5, 295, "The door closes."), Event(400, None, "lights off")]
    merged = merge_window_events([first, second], tolerance=1.0)
    assert [(e.start, e.end, e.text) for e in merged] == [
        (10, 12, "a person enters"), (290, 295, "the door closes"), (400, None, "lights off")]


def test_merge_keeps_different_events_at_the_same_time():
    merged = merge_window_events([[Event(5, None, "goal")], [Event(5.2, None, "crowd cheers")]], tolerance=1.0)
    assert len(merged) == 2


def test_reduce_prompt_names_each_part_with_global_times():
    text = reduce_prompt("Summarise.", [((0, 300), "intro"), ((270, 600), "talk")])
    assert "[00:04:30 - 00:10:00]" in text and text.startswith("Summarise.")


@pytest.mark.engine
def test_hour_video_windows_carry_global_times(client, tokenizer, hour_clip):
    from framestamp.serving.inject import group_timestamps

    response = client.chat.completions.create(
        model="tiny-qwen3-vl", max_tokens=8,
        messages=[{"role": "user", "content": [
            {"type": "video_url", "video_url": {"url": hour_clip.path.as_uri()}},
            {"type": "text", "text": "When does the colour change?"}]}],
        extra_body={"temporal": {"fps": 0.1, "max_frames": 48, "long_video": "windows"}, "return_token_ids": True},
    )
    temporal = response.temporal
    assert temporal["strategy"] == "windows" and len(temporal["windows"]) >= 7
    truth = set(hour_clip.frame_times)
    for window in temporal["windows"]:
        assert window["start"] <= window["frame_times"][0] and window["frame_times"][-1] <= window["end"]
        assert all(t in truth for t in window["frame_times"])  # each a real frame's PTS, global
        seen = tokenizer.decode(window["prompt_token_ids"])
        for marker in group_timestamps(window["frame_times"]):
            assert marker in seen
    assert temporal["windows"][-1]["frame_times"][-1] > 3000
    assert all(0 <= e["start"] <= temporal["duration"] for e in temporal["events"])
    assert response.usage.prompt_tokens > 0 and response.choices[0].message.content.startswith("[00:00:00")


@pytest.mark.engine
def test_windows_stream_and_reduce(client, hour_clip):
    messages = [{"role": "user", "content": [
        {"type": "video_url", "video_url": {"url": hour_clip.path.as_uri()}},
        {"type": "text", "text": "Summarise the video."}]}]
    temporal = {"fps": 0.1, "max_frames": 48, "long_video": "windows"}
    chunks = list(client.chat.completions.create(
        model="tiny-qwen3-vl", max_tokens=4, messages=messages, stream=True,
        stream_options={"include_usage": True}, extra_body={"temporal": temporal}))
    assert chunks[-1].temporal["strategy"] == "windows"
    assert any(c.usage for c in chunks) and "".join(
        c.choices[0].delta.content or "" for c in chunks if c.choices).startswith("[00:00:00")
    reduced = client.chat.completions.create(
        model="tiny-qwen3-vl", max_tokens=4, messages=messages, extra_body={"temporal": {**temporal, "reduce": True}})
    # The message is the reduce call's answer, not the windows' answers joined.
    assert not (reduced.choices[0].message.content or "").startswith("[00:00:00")
    assert reduced.temporal["strategy"] == "windows" and reduced.usage.prompt_tokens > 0


events_st = st.lists(st.builds(
    Event, start=st.floats(0, 3600), end=st.one_of(st.none(), st.floats(0, 3600)), text=st.text(max_size=20)),
    max_size=8)


@given(st.lists(events_st, max_size=5), st.floats(0.1, 10))
def test_merge_keeps_order_and_only_input_events(per_window, tolerance):
    merged = merge_window_events(per_window, tolerance=tolerance)
    starts = [e.start for e in merged]
    assert starts == sorted(starts)
    assert len(merged) <= sum(len(w) for w in per_window)
    assert set(starts) <= {e.start for w in per_window for e in w}
