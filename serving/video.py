"""Probe videos and sample frames at their true presentation times (PyAV).

Every sampled frame carries the time it is shown at, taken from its PTS
(relative to the stream's first timestamp), never `index / fps`: that is
what makes variable-frame-rate clips come out right where OpenCV-based
loaders drift by seconds.

Speed: frames are decoded as a stream and only the chosen ones are scaled
and JPEG-encoded, so memory stays flat in video length. When the gap
between two targets spans a keyframe, the decoder seeks instead of decoding
through; when targets are several source frames apart, non-reference frames
are not decoded at all (`skip_frame=NONREF`); every chosen frame's time is
still its own PTS. `FrameSampler` splits long videos into contiguous runs of
targets decoded in parallel processes.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import io
import math
import multiprocessing
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from framestamp.serving.sampling import SamplingPlan, SamplingPolicy, plan_sampling

VideoSource = str | os.PathLike[str] | bytes

# Parallel decode pays for its process start-up only on longer videos.
PARALLEL_MIN_SECONDS = 60.0
JPEG_QUALITY = 90


class VideoError(ValueError):
    """A video that cannot be used. The message is safe to show to users."""


class NotAVideoError(VideoError):
    """The bytes are not a media file, or the file has no video stream."""


class UnreadableVideoError(VideoError):
    """The file opens but no frame decodes (truncated or corrupt)."""


@dataclass(frozen=True)
class VideoInfo:
    """What a probe learns without decoding more than the first frame.

    width/height are the displayed size (rotation applied); coded_* are the
    stored size. rotation is the display rotation in degrees, counter-
    clockwise, as in FFmpeg's display matrix.
    """

    duration: float
    frame_count: int | None
    fps: float | None
    width: int
    height: int
    coded_width: int
    coded_height: int
    rotation: int
    variable_frame_rate: bool
    keyframe_interval: float | None
    codec: str


@dataclass(frozen=True)
class SampledFrame:
    time: float
    jpeg: bytes


@dataclass(frozen=True)
class SampledVideo:
    info: VideoInfo
    frames: tuple[SampledFrame, ...]
    width: int
    height: int
    start: float
    end: float
    warnings: tuple[str, ...]
    decode_seconds: float

    @property
    def times(self) -> list[float]:
        return [f.time for f in self.frames]

    @property
    def effective_fps(self) -> float:
        span = self.end - self.start
        return len(self.frames) / span if span > 0 else 0.0


@contextlib.contextmanager
def open_video(source: VideoSource) -> Iterator[tuple[av.container.InputContainer, av.VideoStream]]:
    """Open `source` and yield (container, first video stream), mapping errors to VideoError."""
    if isinstance(source, bytes | bytearray):
        if not source:
            raise NotAVideoError("the video is empty (0 bytes)")
        target: object = io.BytesIO(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise NotAVideoError(f"no such video file: {path.name}")
        if path.stat().st_size == 0:
            raise NotAVideoError("the video is empty (0 bytes)")
        target = str(path)
    try:
        container = av.open(target, mode="r", metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError) as exc:
        raise NotAVideoError(f"not a readable video file ({_ffmpeg_reason(exc)})") from None
    try:
        if not container.streams.video:
            raise NotAVideoError("the file has no video stream")
        yield container, container.streams.video[0]
    finally:
        container.close()


def _ffmpeg_reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(":")[0].strip() or type(exc).__name__


def _start_pts(stream: av.VideoStream) -> int:
    return stream.start_time if stream.start_time is not None else 0


def _frame_seconds(frame: av.VideoFrame, start_pts: int, time_base: Fraction) -> float | None:
    pts = frame.pts if frame.pts is not None else frame.dts
    if pts is None:
        return None
    return float((pts - start_pts) * time_base)


def probe_video(source: VideoSource) -> VideoInfo:
    """Read a video's duration, size, rotation, frame rate and keyframe spacing."""
    with open_video(source) as (container, stream):
        time_base = stream.time_base or Fraction(1, 90_000)
        start = _start_pts(stream)
        stamps, keyframes = _packet_times(container, stream, start, time_base)
        container.seek(start, stream=stream, backward=True, any_frame=False)
        first = _first_frame(container, stream)
        rotation = _normalize_rotation(first.rotation)
        duration = _duration(container, stream, time_base, stamps)
        gaps = [b - a for a, b in zip(stamps, stamps[1:]) if b > a]
        vfr = False
        if len(gaps) >= 2:
            median = statistics.median(gaps)
            vfr = median > 0 and (max(gaps) - min(gaps)) > 0.1 * median
        keyframe_interval = None
        if len(keyframes) >= 2:
            keyframe_interval = (keyframes[-1] - keyframes[0]) / (len(keyframes) - 1)
        elif keyframes:
            keyframe_interval = duration
        fps = float(stream.average_rate) if stream.average_rate else None
        coded_w, coded_h = first.width, first.height
        w, h = (coded_h, coded_w) if rotation % 180 else (coded_w, coded_h)
        return VideoInfo(
            duration=duration,
            frame_count=len(stamps) or (stream.frames or None),
            fps=fps,
            width=w,
            height=h,
            coded_width=coded_w,
            coded_height=coded_h,
            rotation=rotation,
            variable_frame_rate=vfr,
            keyframe_interval=keyframe_interval,
            codec=stream.codec_context.name,
        )


def _packet_times(container, stream, start: int, time_base: Fraction) -> tuple[list[float], list[float]]:
    """Sorted presentation times of all frames, and of keyframes, without decoding.

    Containers with a sample table (MP4, MOV, MKV with cues) answer from the
    index; others are demuxed, which reads the file but decodes nothing.
    """
    entries = stream.index_entries
    if entries is not None and len(entries) > 1:
        times = sorted(float((e.timestamp - start) * time_base) for e in entries)
        keys = sorted(float((e.timestamp - start) * time_base) for e in entries if e.is_keyframe)
        return times, keys
    times, keys = [], []
    try:
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            t = float((packet.pts - start) * time_base)
            times.append(t)
            if packet.is_keyframe:
                keys.append(t)
    except av.FFmpegError:
        pass  # a truncated tail: what was read is what there is
    times.sort()
    keys.sort()
    return times, keys


def _first_frame(container, stream) -> av.VideoFrame:
    try:
        for frame in container.decode(stream):
            return frame
    except av.FFmpegError as exc:
        raise UnreadableVideoError(
            f"no frame could be decoded; the file is truncated or corrupt ({_ffmpeg_reason(exc)})"
        ) from None
    raise UnreadableVideoError("no frame could be decoded; the file is truncated or corrupt")


def _duration(container, stream, time_base: Fraction, stamps: list[float]) -> float:
    if stream.duration:
        return float(stream.duration * time_base)
    if container.duration:
        return container.duration / av.time_base
    if len(stamps) >= 2:
        return stamps[-1] + (stamps[-1] - stamps[-2])
    return stamps[-1] if stamps else 0.0


def _normalize_rotation(rotation: float | int | None) -> int:
    if not rotation:
        return 0
    return int(round(rotation / 90.0)) * 90 % 360


def content_hash(source: VideoSource) -> str:
    """SHA-256 of the video's bytes: the identity used for caches and vLLM uuids."""
    if isinstance(source, bytes | bytearray):
        return hashlib.sha256(source).hexdigest()
    with open(source, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


@dataclass(frozen=True)
class _DecodeJob:
    """One contiguous run of targets, decoded by one process."""

    source: VideoSource
    targets: tuple[float, ...]
    width: int
    height: int
    rotation: int
    keyframe_interval: float | None
    skip_nonref: bool
    jpeg_quality: int


def _decode_job(job: _DecodeJob) -> tuple[list[SampledFrame], list[str]]:
    """Emit, for each target, the first frame shown at or after it (deduplicated)."""
    frames: list[SampledFrame] = []
    warnings: list[str] = []
    targets = job.targets
    with open_video(job.source) as (container, stream):
        time_base = stream.time_base or Fraction(1, 90_000)
        start = _start_pts(stream)
        if job.skip_nonref:
            stream.codec_context.skip_frame = "NONREF"
        seek_gap = job.keyframe_interval

        def decode_from(t: float) -> Iterator[av.VideoFrame]:
            if t > 0 and seek_gap is not None:
                container.seek(start + int(t / time_base), stream=stream, backward=True)
            return container.decode(stream)

        i = 0
        last_time = -math.inf
        decoded = decode_from(targets[0])
        while i < len(targets):
            try:
                frame = next(decoded, None)
            except av.FFmpegError as exc:
                where = f"{last_time:.3f} s" if frames else "the start"
                warnings.append(
                    f"decoding stopped after {where}: the file is truncated or corrupt "
                    f"({_ffmpeg_reason(exc)})"
                )
                break
            if frame is None:
                break
            t = _frame_seconds(frame, start, time_base)
            if t is None or t < targets[i] - 1e-9 or t <= last_time:
                continue
            frames.append(SampledFrame(time=t, jpeg=_encode_frame(frame, job)))
            last_time = t
            while i < len(targets) and targets[i] <= t + 1e-9:
                i += 1
            # Seek when a keyframe lies between here and the next target:
            # decoding through the gap would cost more than restarting there.
            if i < len(targets) and seek_gap is not None and targets[i] - t > 1.5 * seek_gap:
                decoded = decode_from(targets[i])
    return frames, warnings


def _encode_frame(frame: av.VideoFrame, job: _DecodeJob) -> bytes:
    # Scale in swscale (fast, in the decoder's pixel format), then turn the
    # picture upright: the display rotation is counter-clockwise, as np.rot90.
    quarter_turns = job.rotation // 90
    coded_w, coded_h = (job.height, job.width) if quarter_turns % 2 else (job.width, job.height)
    rgb = frame.to_ndarray(width=coded_w, height=coded_h, format="rgb24")
    if quarter_turns:
        rgb = np.rot90(rgb, quarter_turns)
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buffer, format="JPEG", quality=job.jpeg_quality)
    return buffer.getvalue()


def _jobs(
    source: VideoSource, info: VideoInfo, plan: SamplingPlan, parts: int, jpeg_quality: int
) -> list[_DecodeJob]:
    source_gap = 1.0 / info.fps if info.fps else None
    target_gap = (plan.end - plan.start) / max(len(plan.targets), 1)
    # Skipping non-reference frames is safe when targets are several source
    # frames apart: the next reference frame is then still close to the target.
    skip_nonref = source_gap is not None and target_gap >= 4 * source_gap
    seek = info.keyframe_interval is not None and target_gap > info.keyframe_interval
    chunk = math.ceil(len(plan.targets) / parts)
    return [
        _DecodeJob(
            source=source,
            targets=plan.targets[i : i + chunk],
            width=plan.width,
            height=plan.height,
            rotation=info.rotation,
            # Parallel parts must seek to their first target; within a part,
            # seeking pays only when targets are further apart than keyframes.
            keyframe_interval=info.keyframe_interval if (seek or parts > 1) else None,
            skip_nonref=skip_nonref,
            jpeg_quality=jpeg_quality,
        )
        for i in range(0, len(plan.targets), chunk)
    ]


class FrameSampler:
    """Samples videos, decoding long ones in `workers` parallel processes.

    Own one per process (the adapter creates one at start-up) and close it,
    or use it as a context manager. workers=1 decodes in the calling thread.
    """

    def __init__(self, workers: int = 1, *, jpeg_quality: int = JPEG_QUALITY) -> None:
        self.workers = max(1, workers)
        self.jpeg_quality = jpeg_quality
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def __enter__(self) -> FrameSampler:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _executor(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: the adapter runs threads and an event loop.
            self._pool = concurrent.futures.ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("spawn")
            )
        return self._pool

    def sample(
        self, source: VideoSource, policy: SamplingPolicy = SamplingPolicy(), *, info: VideoInfo | None = None
    ) -> SampledVideo:
        began = time.perf_counter()
        info = info or probe_video(source)
        plan = plan_sampling(policy, duration=info.duration, width=info.width, height=info.height)
        parts = 1
        if self.workers > 1 and plan.end - plan.start >= PARALLEL_MIN_SECONDS:
            parts = min(self.workers, len(plan.targets))
        with _as_path(source, parts > 1) as decodable:
            jobs = _jobs(decodable, info, plan, parts, self.jpeg_quality)
            if len(jobs) == 1:
                results = [_decode_job(jobs[0])]
            else:
                results = list(self._executor().map(_decode_job, jobs))
        frames: list[SampledFrame] = []
        warnings = list(plan.warnings)
        for part_frames, part_warnings in results:
            for frame in part_frames:
                if not frames or frame.time > frames[-1].time:
                    frames.append(frame)
            warnings.extend(part_warnings)
        if not frames:
            raise UnreadableVideoError(
                "no frame could be decoded in the requested window; the file is truncated or corrupt"
            )
        return SampledVideo(
            info=info,
            frames=tuple(frames),
            width=plan.width,
            height=plan.height,
            start=plan.start,
            end=plan.end,
            warnings=tuple(warnings),
            decode_seconds=time.perf_counter() - began,
        )


@contextlib.contextmanager
def _as_path(source: VideoSource, needed: bool) -> Iterator[VideoSource]:
    """Worker processes open the video by path; spill bytes to a temp file for them."""
    if not needed or not isinstance(source, bytes | bytearray):
        yield source
        return
    with tempfile.NamedTemporaryFile(suffix=".video") as tmp:
        tmp.write(source)
        tmp.flush()
        yield tmp.name


def sample_frames(
    source: VideoSource, policy: SamplingPolicy = SamplingPolicy(), *, workers: int = 1
) -> SampledVideo:
    """Sample `source` by `policy`; see FrameSampler for reuse across calls."""
    with FrameSampler(workers) as sampler:
        return sampler.sample(source, policy)
