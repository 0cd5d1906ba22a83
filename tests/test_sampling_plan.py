"""Sampling plans: target times, frame sizes and the visual-token budget."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framestamp.serving.sampling import (
    SamplingError,
    SamplingPolicy,
    fit_frame_size,
    plan_sampling,
    visual_tokens,
)


def test_two_fps_over_ten_seconds_gives_twenty_targets_half_a_second_apart():
    plan = plan_sampling(SamplingPolicy(fps=2), duration=10.0, width=640, height=360)
    assert len(plan.targets) == 20
    assert plan.targets[:3] == (0.0, 0.5, 1.0)
    assert plan.width % 32 == 0 and plan.height % 32 == 0


def test_short_clip_still_gets_min_frames():
    plan = plan_sampling(SamplingPolicy(fps=2, min_frames=4), duration=0.5, width=64, height=64)
    assert len(plan.targets) == 4


def test_max_frames_caps_the_count_and_lowers_effective_fps():
    plan = plan_sampling(SamplingPolicy(fps=2, max_frames=10), duration=100.0, width=64, height=64)
    assert len(plan.targets) == 10
    assert plan.effective_fps == pytest.approx(0.1)


def test_window_is_honoured_and_clipped_to_duration():
    plan = plan_sampling(SamplingPolicy(fps=1, start=2.0, end=50.0), duration=10.0, width=64, height=64)
    assert plan.targets[0] == 2.0 and plan.targets[-1] < 10.0
    assert any("past the video's end" in w for w in plan.warnings)


def test_budget_lowers_resolution_first_then_frame_count():
    plan = plan_sampling(
        SamplingPolicy(fps=2, max_visual_tokens=400), duration=10.0, width=1280, height=720
    )
    assert plan.visual_tokens <= 400 and len(plan.targets) == 20
    tight = plan_sampling(
        SamplingPolicy(fps=2, max_visual_tokens=64, min_frame_tokens=16), duration=60.0, width=1280, height=720
    )
    assert tight.visual_tokens <= 64
    assert len(tight.targets) < 120 and tight.warnings


@pytest.mark.parametrize(
    "kwargs",
    [dict(fps=0), dict(fps=-1), dict(fps=math.nan), dict(min_frames=0), dict(max_frames=2, min_frames=4),
     dict(start=5, end=5), dict(start=-1), dict(max_visual_tokens=0)],
)
def test_bad_policies_are_refused(kwargs):
    with pytest.raises(SamplingError):
        SamplingPolicy(**kwargs)


def test_start_past_the_end_is_refused():
    with pytest.raises(SamplingError, match="past the end"):
        plan_sampling(SamplingPolicy(start=20), duration=10.0, width=64, height=64)


@given(
    w=st.integers(1, 8000), h=st.integers(1, 8000), budget=st.integers(1, 20000),
)
def test_fit_frame_size_is_a_multiple_of_32_within_budget(w, h, budget):
    fw, fh = fit_frame_size(w, h, budget)
    assert fw % 32 == 0 and fh % 32 == 0 and fw >= 32 and fh >= 32
    assert (fw // 32) * (fh // 32) <= max(budget, 1) or (fw, fh) == (32, 32)


@settings(max_examples=200)
@given(
    duration=st.floats(0.05, 20000), fps=st.floats(0.01, 30), max_frames=st.integers(4, 2000),
    budget=st.one_of(st.none(), st.integers(1, 50000)),
)
def test_plans_are_sorted_inside_the_window_and_within_bounds(duration, fps, max_frames, budget):
    policy = SamplingPolicy(fps=fps, max_frames=max_frames, max_visual_tokens=budget)
    plan = plan_sampling(policy, duration=duration, width=1920, height=1080)
    assert 1 <= len(plan.targets) <= max_frames
    assert list(plan.targets) == sorted(plan.targets)
    assert all(0 <= t < duration for t in plan.targets)
    if budget is not None:
        assert plan.visual_tokens <= max(budget, visual_tokens(2, 32, 32))
