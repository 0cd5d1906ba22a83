"""Events and the granularities they are rendered at.

Standard library only: the client imports this module too.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

DEFAULT_COARSE_BUCKET = 30.0


class Granularity(str, enum.Enum):
    """How precisely times are asked for and shown.

    SECOND: whole seconds, `HH:MM:SS` (the default).
    SUBSECOND: milliseconds, `HH:MM:SS.mmm`.
    COARSE: intervals on a fixed grid (30 s unless configured), `MM:SS-MM:SS`.
    """

    SECOND = "second"
    SUBSECOND = "subsecond"
    COARSE = "coarse"


@dataclass(frozen=True)
class Event:
    """Something that happens in the video.

    start/end are seconds from the first frame; end is None for a moment.
    text is what happens, with the times taken out. source is the time
    expression as the model wrote it, kept for debugging and warnings.
    """

    start: float
    end: float | None
    text: str
    source: str = ""

    @property
    def duration(self) -> float:
        return 0.0 if self.end is None else self.end - self.start


def format_clock(seconds: float, *, millis: bool = False, force_hours: bool = True) -> str:
    """`HH:MM:SS` or `HH:MM:SS.mmm`; without force_hours, `MM:SS` under an hour."""
    if not math.isfinite(seconds) or seconds < 0:
        seconds = 0.0
    total_ms = round(seconds * 1000) if millis else round(seconds) * 1000
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    head = f"{hours:02d}:{minutes:02d}:{secs:02d}" if hours or force_hours else f"{minutes:02d}:{secs:02d}"
    return f"{head}.{ms:03d}" if millis else head


def coarse_bounds(start: float, end: float | None, bucket: float) -> tuple[float, float]:
    """The grid interval(s) covering [start, end]."""
    if bucket <= 0:
        raise ValueError("the coarse bucket must be positive")
    lo = math.floor(start / bucket) * bucket
    hi = math.ceil((end if end is not None else start) / bucket) * bucket
    if hi <= lo:
        hi = lo + bucket
    return lo, hi


def format_time(seconds: float, granularity: Granularity) -> str:
    """One time at a granularity (COARSE shows the grid point as `MM:SS`)."""
    if granularity is Granularity.SUBSECOND:
        return format_clock(seconds, millis=True)
    if granularity is Granularity.COARSE:
        return format_clock(seconds, force_hours=seconds >= 3600)
    return format_clock(seconds)


def event_time_texts(
    event: Event, granularity: Granularity, *, bucket: float = DEFAULT_COARSE_BUCKET
) -> tuple[str, str | None]:
    """(start_text, end_text) of an event at a granularity."""
    if granularity is Granularity.COARSE:
        lo, hi = coarse_bounds(event.start, event.end, bucket)
        return format_time(lo, granularity), format_time(hi, granularity)
    end = None if event.end is None else format_time(event.end, granularity)
    return format_time(event.start, granularity), end


def render_events(
    events: list[Event],
    granularity: Granularity = Granularity.SECOND,
    *,
    language: str = "zh",
    bucket: float = DEFAULT_COARSE_BUCKET,
) -> list[str]:
    """Readable lines, one an event, in the seed's style: `- 人物进入房间：00:00:05`.

    language "zh" uses the full-width colon of the seed's examples, "en" a
    plain colon. Ranges read `start - end`.
    """
    colon = "：" if language == "zh" else ": "
    lines = []
    for event in events:
        start_text, end_text = event_time_texts(event, granularity, bucket=bucket)
        when = start_text if end_text is None or end_text == start_text else f"{start_text} - {end_text}"
        lines.append(f"- {event.text}{colon}{when}" if event.text else f"- {when}")
    return lines
