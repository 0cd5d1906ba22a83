"""Sampling plans: which times to take frames at, and at what size.

Pure arithmetic, no decoding. Qwen3-VL's geometry decides the numbers: a
frame is cut into 16 px patches merged 2x2, and two consecutive frames form
one temporal group, so one visual token covers 32x32 pixels of a 2-frame
group. Frames are therefore sized to multiples of 32 px, and a video of `n`
frames at `w x h` costs `ceil(n / 2) * (w / 32) * (h / 32)` tokens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PIXELS_PER_TOKEN_SIDE = 32
FRAMES_PER_GROUP = 2
# Per-frame ceiling qwen-vl-utils applies to video frames (VIDEO_MAX_TOKEN_NUM).
DEFAULT_MAX_FRAME_TOKENS = 768
# Floor below which framestamp lowers the frame rate instead of the
# resolution: 16 tokens is a 128x128 frame, about the least a scene is
# recognisable at.
DEFAULT_MIN_FRAME_TOKENS = 16


class SamplingError(ValueError):
    """A sampling policy that cannot be satisfied (bad bounds, empty window)."""


@dataclass(frozen=True)
class SamplingPolicy:
    """How to sample a video. Times are seconds from the first frame.

    fps: target frames per second (the model was trained at 2).
    min_frames / max_frames: bounds on the frame count, whatever the fps.
    start / end: optional window; None means the whole video.
    max_visual_tokens: budget for the whole video, usually derived from the
        engine's max model length; None means only the per-frame ceiling.
    max_frame_tokens / min_frame_tokens: per-frame resolution ceiling and
        floor, in tokens (one token = 32x32 px of a 2-frame group).
    """

    fps: float = 2.0
    min_frames: int = 4
    max_frames: int = 768
    start: float | None = None
    end: float | None = None
    max_visual_tokens: int | None = None
    max_frame_tokens: int = DEFAULT_MAX_FRAME_TOKENS
    min_frame_tokens: int = DEFAULT_MIN_FRAME_TOKENS

    def __post_init__(self) -> None:
        if not (self.fps > 0 and math.isfinite(self.fps)):
            raise SamplingError(f"fps must be a positive number, got {self.fps}")
        if self.min_frames < 1:
            raise SamplingError(f"min_frames must be at least 1, got {self.min_frames}")
        if self.max_frames < self.min_frames:
            raise SamplingError(
                f"max_frames ({self.max_frames}) must be >= min_frames ({self.min_frames})"
            )
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is not None and not (value >= 0 and math.isfinite(value)):
                raise SamplingError(f"{name} must be a non-negative number of seconds")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise SamplingError(f"end ({self.end}) must be after start ({self.start})")
        if self.min_frame_tokens < 1 or self.max_frame_tokens < self.min_frame_tokens:
            raise SamplingError("need 1 <= min_frame_tokens <= max_frame_tokens")
        if self.max_visual_tokens is not None and self.max_visual_tokens < 1:
            raise SamplingError("max_visual_tokens must be positive")

    def cache_key(self) -> str:
        """Stable text naming every field, for cache keys and vLLM uuids."""
        return (
            f"fps={self.fps!r};min={self.min_frames};max={self.max_frames};"
            f"start={self.start!r};end={self.end!r};budget={self.max_visual_tokens};"
            f"ftok={self.min_frame_tokens}-{self.max_frame_tokens}"
        )


@dataclass(frozen=True)
class SamplingPlan:
    """Target times to sample at, and the size every sampled frame gets."""

    targets: tuple[float, ...]
    width: int
    height: int
    start: float
    end: float
    warnings: tuple[str, ...] = ()

    @property
    def effective_fps(self) -> float:
        span = self.end - self.start
        return len(self.targets) / span if span > 0 else 0.0

    @property
    def visual_tokens(self) -> int:
        return visual_tokens(len(self.targets), self.width, self.height)


def visual_tokens(frames: int, width: int, height: int) -> int:
    side = PIXELS_PER_TOKEN_SIDE
    return math.ceil(frames / FRAMES_PER_GROUP) * (width // side) * (height // side)


def fit_frame_size(width: int, height: int, max_tokens: int) -> tuple[int, int]:
    """Largest multiple-of-32 size near `width x height`, same aspect, <= max_tokens.

    Never upscales beyond the nearest multiple of 32 of the source size, and
    never goes below 32 px on a side.
    """
    if width < 1 or height < 1:
        raise SamplingError(f"frame size must be positive, got {width}x{height}")
    side = PIXELS_PER_TOKEN_SIDE
    w = max(side, round(width / side) * side)
    h = max(side, round(height / side) * side)
    if (w // side) * (h // side) <= max_tokens:
        return w, h
    beta = math.sqrt((width * height) / (max_tokens * side * side))
    w = max(side, math.floor(width / beta / side) * side)
    h = max(side, math.floor(height / beta / side) * side)
    # The floors above can still overshoot when one side is clamped at 32.
    while (w // side) * (h // side) > max_tokens and max(w, h) > side:
        if w >= h:
            w -= side
        else:
            h -= side
    return w, h


def uniform_targets(start: float, end: float, count: int) -> list[float]:
    """`count` times spread evenly over [start, end), the first at `start`."""
    step = (end - start) / count
    return [start + i * step for i in range(count)]


def plan_sampling(
    policy: SamplingPolicy, *, duration: float, width: int, height: int
) -> SamplingPlan:
    """Choose target times and a frame size for a video of this duration and size.

    `width` and `height` are the displayed size (after rotation).
    """
    if not (duration > 0 and math.isfinite(duration)):
        raise SamplingError(f"the video has no duration to sample ({duration!r} s)")
    start = policy.start or 0.0
    end = duration if policy.end is None else min(policy.end, duration)
    if start >= duration:
        raise SamplingError(f"start ({start} s) is at or past the end of the video ({duration:.3f} s)")
    if end <= start:
        raise SamplingError(f"the window [{start}, {end}] s is empty")
    warnings: list[str] = []
    if policy.end is not None and policy.end > duration:
        warnings.append(f"end {policy.end} s is past the video's end; sampled to {duration:.3f} s")

    span = end - start
    count = max(policy.min_frames, math.floor(span * policy.fps + 1e-9))
    count = min(count, policy.max_frames)

    frame_tokens = policy.max_frame_tokens
    if policy.max_visual_tokens is not None:
        groups = math.ceil(count / FRAMES_PER_GROUP)
        frame_tokens = min(frame_tokens, policy.max_visual_tokens // max(groups, 1))
        if frame_tokens < policy.min_frame_tokens:
            # Not enough budget at the resolution floor: fewer frames instead.
            groups_allowed = max(1, policy.max_visual_tokens // policy.min_frame_tokens)
            fewer = max(1, min(count, groups_allowed * FRAMES_PER_GROUP))
            warnings.append(
                f"{count} frames do not fit the {policy.max_visual_tokens}-token budget at the "
                f"resolution floor ({policy.min_frame_tokens} tokens/frame); sampled {fewer} "
                f"frames ({fewer / span:.3f} fps) instead"
            )
            count = fewer
            groups = math.ceil(count / FRAMES_PER_GROUP)
            frame_tokens = max(1, min(policy.max_frame_tokens, policy.max_visual_tokens // groups))
    w, h = fit_frame_size(width, height, frame_tokens)
    return SamplingPlan(
        targets=tuple(uniform_targets(start, end, count)),
        width=w,
        height=h,
        start=start,
        end=end,
        warnings=tuple(warnings),
    )
