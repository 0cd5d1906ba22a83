"""Generate H.264 test clips whose true frame times are known.

Tests and benchmarks need videos where the ground truth is exact: every
frame's presentation time, and scene changes (a solid colour switching to
another) at known times. Clips are written with PyAV, constant or variable
frame rate, any size (odd sizes included), optionally tagged with a display
rotation.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

# Colours the scenes cycle through; far apart so a decoder's chroma
# subsampling never makes two neighbours look alike.
PALETTE = (
    (220, 30, 30),
    (30, 200, 40),
    (30, 60, 220),
    (230, 220, 40),
    (200, 40, 200),
    (40, 210, 210),
    (250, 250, 250),
    (20, 20, 20),
)
TIME_BASE = Fraction(1, 90_000)


@dataclass(frozen=True)
class ClipSpec:
    duration: float = 10.0
    fps: float = 30.0
    width: int = 160
    height: int = 96
    # Variable frame rate: frame gaps drawn between 0.3x and 3x the nominal gap.
    vfr: bool = False
    rotation: int = 0
    # A clip whose frame rate drops to slow_fps at this time (screen recordings
    # and phone clips do this): average-rate arithmetic goes seconds wrong on it.
    slowdown_at: float | None = None
    slow_fps: float = 5.0
    # Scene changes: the colour switches at each of these times (seconds).
    scene_changes: tuple[float, ...] = ()
    gop: int = 250
    crf: int = 30
    seed: int = 0


@dataclass(frozen=True)
class Clip:
    path: Path
    spec: ClipSpec
    # Exact presentation time of every frame written, in seconds.
    frame_times: tuple[float, ...] = field(repr=False)

    @property
    def duration(self) -> float:
        """Time at which the last frame stops being shown."""
        return self.frame_times[-1] + self.last_frame_duration

    @property
    def last_frame_duration(self) -> float:
        return 1.0 / self.spec.fps


def frame_times_for(spec: ClipSpec) -> list[float]:
    """The presentation times (on the 1/90000 grid) of a clip's frames."""
    gap = 1.0 / spec.fps
    rng = random.Random(spec.seed)
    times: list[float] = []
    t = 0.0
    while t < spec.duration - 1e-9:
        times.append(round(t * 90_000) / 90_000)
        if spec.slowdown_at is not None and t >= spec.slowdown_at:
            t += 1.0 / spec.slow_fps
        else:
            t += gap * (rng.uniform(0.3, 3.0) if spec.vfr else 1.0)
    return times


def scene_index(t: float, scene_changes: tuple[float, ...]) -> int:
    return sum(1 for change in scene_changes if t >= change)


def write_clip(path: str | Path, spec: ClipSpec = ClipSpec()) -> Clip:
    """Encode `spec` to `path` (H.264 in MP4, no B-frames) and return its truth."""
    return _encode(
        Path(path), spec, frame_times_for(spec),
        codec="libx264", time_base=TIME_BASE,
        # 4:2:0 H.264 needs even sizes.
        width=spec.width + spec.width % 2, height=spec.height + spec.height % 2,
        options={"preset": "ultrafast", "bf": "0", "crf": str(spec.crf)},
    )


def write_odd_size_clip(path: str | Path, width: int, height: int, **kwargs) -> Clip:
    """H.264 needs even sizes for 4:2:0; MPEG-4 Part 2 takes any, like phone clips do."""
    spec = ClipSpec(width=width, height=height, **kwargs)
    # MPEG-4 Part 2 takes time bases up to 1/65535: put the frames on a ms grid.
    times = sorted({round(t * 1000) / 1000 for t in frame_times_for(spec)})
    return _encode(Path(path), spec, times, codec="mpeg4", time_base=Fraction(1, 1000), width=width, height=height)


def _encode(
    path: Path, spec: ClipSpec, times: list[float], *, codec: str, time_base: Fraction,
    width: int, height: int, options: dict[str, str] | None = None,
) -> Clip:
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=Fraction(spec.fps).limit_denominator(1001))
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.time_base = time_base
        stream.codec_context.time_base = time_base
        stream.codec_context.gop_size = spec.gop
        if options:
            stream.options = options
        if spec.rotation:
            stream.set_display_rotation(spec.rotation)
        canvas = np.zeros((height, width, 3), dtype=np.uint8)
        for i, t in enumerate(times):
            canvas[:] = PALETTE[scene_index(t, spec.scene_changes) % len(PALETTE)]
            # A moving bar gives the encoder real motion, like a real clip.
            x = (i * 3) % width
            canvas[:, x : x + 2] = 128
            frame = av.VideoFrame.from_ndarray(canvas, format="rgb24")
            frame.pts = round(t / time_base)
            frame.time_base = time_base
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return Clip(path=path, spec=spec, frame_times=tuple(times))


def write_audio_only(path: str | Path, seconds: float = 1.0) -> Path:
    """A valid media file with no video stream (an M4A of silence)."""
    path = Path(path)
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("aac", rate=16_000)
        samples = np.zeros((1, 1024), dtype=np.float32)
        for i in range(int(seconds * 16_000 / 1024)):
            frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            frame.sample_rate = 16_000
            frame.pts = i * 1024
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def write_pattern_clip(path: str | Path, spec: ClipSpec) -> Clip:
    """A clip with busy, moving content (FFmpeg's testsrc2), for decode benchmarks.

    Solid-colour clips decode unrealistically fast; testsrc2 moves, has text
    and gradients, and costs about 3 Mbit/s at 480p like a phone clip. The
    frames' presentation times still come from `spec` (VFR included), so the
    truth is known exactly. Encoding is done frame by frame in FFmpeg; no
    picture passes through Python.
    """
    path = Path(path)
    times = frame_times_for(spec)
    width, height = spec.width + spec.width % 2, spec.height + spec.height % 2
    with av.open(f"testsrc2=size={width}x{height}:rate={spec.fps}", format="lavfi") as source, \
            av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=Fraction(spec.fps).limit_denominator(1001))
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.time_base = stream.codec_context.time_base = TIME_BASE
        stream.codec_context.gop_size = spec.gop
        stream.options = {"preset": "ultrafast", "bf": "0", "crf": str(spec.crf)}
        frames = source.decode(video=0)
        for t in times:
            frame = next(frames).reformat(format="yuv420p")
            # lavfi marks every frame a keyframe; let x264 choose (GOP).
            frame.pict_type = av.video.frame.PictureType.NONE
            frame.pts = round(t / TIME_BASE)
            frame.time_base = TIME_BASE
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return Clip(path=path, spec=spec, frame_times=tuple(times))
