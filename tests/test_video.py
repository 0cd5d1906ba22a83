"""Probing and sampling real encoded files made with PyAV."""

import io

import pytest
from PIL import Image

from framestamp.benchmarks.clips import ClipSpec, write_audio_only, write_clip, write_odd_size_clip
from framestamp.serving.sampling import SamplingError, SamplingPolicy
from framestamp.serving.video import (
    FrameSampler,
    NotAVideoError,
    UnreadableVideoError,
    content_hash,
    probe_video,
    sample_frames,
)


def assert_true_pts(sampled, clip):
    truth = set(clip.frame_times)
    for t in sampled.times:
        assert t in truth or min(abs(t - x) for x in truth) < 1e-3, t


def test_probe_reports_the_clip(cfr_clip):
    info = probe_video(cfr_clip.path)
    assert info.duration == pytest.approx(60.0, abs=0.05)
    assert info.frame_count == len(cfr_clip.frame_times)
    assert info.fps == pytest.approx(30.0, rel=0.01)
    assert (info.width, info.height, info.rotation) == (160, 96, 0)
    assert not info.variable_frame_rate
    assert info.keyframe_interval == pytest.approx(2.0, rel=0.05)


def test_cfr_sampling_is_exact_and_uniform(cfr_clip):
    sampled = sample_frames(cfr_clip.path, SamplingPolicy(fps=2))
    assert len(sampled.frames) == 120
    assert_true_pts(sampled, cfr_clip)
    assert sampled.times[:4] == pytest.approx([0.0, 0.5, 1.0, 1.5], abs=1 / 30)
    first = Image.open(io.BytesIO(sampled.frames[0].jpeg))
    assert first.size == (sampled.width, sampled.height) == (160, 96)


def test_vfr_sampling_uses_pts_not_index(vfr_clip):
    info = probe_video(vfr_clip.path)
    assert info.variable_frame_rate
    sampled = sample_frames(vfr_clip.path, SamplingPolicy(fps=2))
    assert_true_pts(sampled, vfr_clip)
    # The last sampled frame is near the real end, not seconds early.
    assert sampled.times[-1] > vfr_clip.frame_times[-1] - 1.0
    # Each chosen frame is the first one shown at or after its target.
    times = vfr_clip.frame_times
    for target, t in zip([i * 0.5 for i in range(len(sampled.frames))], sampled.times):
        first_after = next(x for x in times if x >= target - 1e-9)
        assert t == pytest.approx(first_after, abs=1e-6) or t > target


def test_window_and_max_frames(cfr_clip):
    sampled = sample_frames(cfr_clip.path, SamplingPolicy(fps=1, start=10.0, end=20.0))
    assert sampled.times[0] == pytest.approx(10.0, abs=1 / 30)
    assert all(10.0 - 1e-6 <= t < 20.0 for t in sampled.times)
    capped = sample_frames(cfr_clip.path, SamplingPolicy(fps=2, max_frames=8))
    assert len(capped.frames) == 8 and capped.effective_fps == pytest.approx(8 / 60, rel=0.01)


def test_seek_path_matches_linear_decode(cfr_clip):
    # 0.2 fps: targets 5 s apart, keyframes every 2 s, so the sampler seeks.
    sparse = sample_frames(cfr_clip.path, SamplingPolicy(fps=0.2))
    dense = sample_frames(cfr_clip.path, SamplingPolicy(fps=2))
    assert sparse.times == [t for t in dense.times if any(abs(t - 5 * k) < 1 / 30 for k in range(12))]
    assert [f.jpeg for f in sparse.frames][:2] == [f.jpeg for f in dense.frames if f.time in sparse.times][:2]


def test_rotation_is_applied(clip_dir):
    clip = write_clip(clip_dir / "rot90.mp4", ClipSpec(duration=2.0, width=160, height=96, rotation=90))
    info = probe_video(clip.path)
    assert info.rotation == 90 and (info.width, info.height) == (96, 160)
    sampled = sample_frames(clip.path)
    assert Image.open(io.BytesIO(sampled.frames[0].jpeg)).size == (96, 160)


@pytest.mark.parametrize("size", [(97, 55), (33, 17), (250, 141)])
def test_odd_sizes(clip_dir, size):
    clip = write_odd_size_clip(clip_dir / f"odd{size[0]}x{size[1]}.mp4", *size, duration=2.0, fps=10.0)
    sampled = sample_frames(clip.path)
    assert sampled.width % 32 == 0 and sampled.height % 32 == 0
    assert_true_pts(sampled, clip)


def test_hour_long_clip_has_global_times(hour_clip):
    sampled = sample_frames(hour_clip.path, SamplingPolicy(fps=0.05, max_frames=768))
    assert len(sampled.frames) == 180
    assert sampled.times[-1] == pytest.approx(3580.0, abs=0.5)
    assert_true_pts(sampled, hour_clip)


def test_parallel_decode_matches_single_process(hour_clip):
    policy = SamplingPolicy(fps=0.2, max_frames=768)
    single = sample_frames(hour_clip.path, policy)
    with FrameSampler(workers=2) as sampler:
        parallel = sampler.sample(hour_clip.path, policy)
    assert parallel.times == single.times
    assert [f.jpeg for f in parallel.frames] == [f.jpeg for f in single.frames]


def test_bytes_and_path_give_the_same_frames(vfr_clip):
    data = vfr_clip.path.read_bytes()
    assert sample_frames(data).times == sample_frames(vfr_clip.path).times
    assert content_hash(data) == content_hash(vfr_clip.path)


def test_no_video_stream(clip_dir):
    path = write_audio_only(clip_dir / "audio.m4a")
    with pytest.raises(NotAVideoError, match="no video stream"):
        probe_video(path)


@pytest.mark.parametrize("data", [b"", b"this is not a video at all" * 40, bytes(range(256)) * 10])
def test_not_a_video(data):
    with pytest.raises(NotAVideoError):
        sample_frames(data)


def test_missing_file(tmp_path):
    with pytest.raises(NotAVideoError, match="no such video file"):
        probe_video(tmp_path / "nope.mp4")


def test_truncated_file_is_a_clear_error(cfr_clip):
    data = cfr_clip.path.read_bytes()
    # moov is at the end of a PyAV-written MP4, so any truncation loses it.
    with pytest.raises((NotAVideoError, UnreadableVideoError)):
        sample_frames(data[: len(data) // 2])


def test_truncated_streamable_file_keeps_what_decodes(clip_dir):
    clip = write_clip(clip_dir / "ts.ts", ClipSpec(duration=10.0, fps=10.0, gop=10))
    data = clip.path.read_bytes()
    sampled = sample_frames(data[: int(len(data) * 0.6)], SamplingPolicy(fps=1))
    assert 3 <= len(sampled.frames) < 10
    assert sampled.times[-1] < 10.0


def test_window_past_the_end_is_refused(cfr_clip):
    with pytest.raises(SamplingError):
        sample_frames(cfr_clip.path, SamplingPolicy(start=100.0))
