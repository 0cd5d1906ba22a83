"""Long videos: when to split into windows, where to cut, how to merge the answers.

A video whose frames at the requested fps do not fit one request (the frame
cap or the visual-token budget) can be handled two ways:

- downsample: one request, the frame rate lowered to fit (the sampler does
  this by itself; the response reports the effective fps);
- windows: overlapping windows, each sampled at the requested fps with its
  own exact, global timestamps and asked the same question (concurrently),
  then the events merged (duplicates from overlaps dropped, order kept) and,
  on request, a final text-only call that writes one answer from the parts.

`auto` chooses windows when downsampling would keep less than
DOWNSAMPLE_FLOOR of the frames asked for, i.e. the effective fps would fall
below half the requested fps.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from framestamp.serving.events import Event, format_clock

DOWNSAMPLE_FLOOR = 0.5
MAX_WINDOWS = 16
OVERLAP_FRACTION = 0.1
MAX_OVERLAP_SECONDS = 30.0


@dataclass(frozen=True)
class WindowPlan:
    strategy: str  # "single", "downsample" or "windows"
    windows: tuple[tuple[float, float], ...]
    warnings: tuple[str, ...] = ()


def plan_windows(
    *, start: float, end: float, fps: float, max_frames: int, mode: str = "auto", max_windows: int = MAX_WINDOWS
) -> WindowPlan:
    """Where to cut [start, end) so each window's frames at `fps` fit `max_frames`."""
    span = end - start
    wanted = span * fps
    if wanted <= max_frames or mode == "downsample" or span <= 0:
        strategy = "single" if wanted <= max_frames else "downsample"
        return WindowPlan(strategy, ((start, end),))
    if mode == "auto" and max_frames / wanted >= DOWNSAMPLE_FLOOR:
        return WindowPlan("downsample", ((start, end),))
    length = max_frames / fps
    overlap = min(OVERLAP_FRACTION * length, MAX_OVERLAP_SECONDS)
    count = math.ceil((span - overlap) / (length - overlap))
    warnings: list[str] = []
    if count > max_windows:
        warnings.append(
            f"{count} windows would be needed at {fps:g} fps; used {max_windows}, each sampled at a lower rate"
        )
        count = max_windows
        length = (span + (count - 1) * overlap) / count
    step = (span - length) / (count - 1) if count > 1 else 0.0
    windows = tuple((start + i * step, min(end, start + i * step + length)) for i in range(count))
    return WindowPlan("windows", windows, tuple(warnings))


def _same_text(a: str, b: str) -> bool:
    a, b = " ".join(a.lower().split()), " ".join(b.lower().split())
    return a == b or (bool(a) and bool(b) and (a in b or b in a or difflib.SequenceMatcher(None, a, b).ratio() >= 0.6))


def merge_window_events(per_window: Sequence[Iterable[Event]], *, tolerance: float) -> list[Event]:
    """All windows' events in time order, an event seen twice (in an overlap) kept once.

    Two events are the same when their starts are within `tolerance` seconds
    and their texts match (equal, one inside the other, or 60 % similar).
    The longer-lasting of the two is kept.
    """
    merged: list[Event] = []
    for event in sorted((e for events in per_window for e in events), key=lambda e: (e.start, e.end or e.start)):
        twin = next((i for i in range(len(merged) - 1, -1, -1)
                     if event.start - merged[i].start <= tolerance and _same_text(event.text, merged[i].text)), None)
        if twin is None:
            merged.append(event)
        elif (event.end or event.start) > (merged[twin].end or merged[twin].start):
            merged[twin] = Event(start=merged[twin].start, end=event.end, text=merged[twin].text, source=merged[twin].source)
    return merged


def reduce_prompt(question: str, parts: Sequence[tuple[tuple[float, float], str]]) -> str:
    """The text-only request that writes one answer from the windows' answers."""
    lines = [
        question.strip(),
        "",
        "The video was watched in consecutive parts. Their answers follow; every time in them is "
        "measured from the start of the whole video. Write one answer for the whole video, keeping the times.",
    ]
    for (start, end), text in parts:
        lines += ["", f"[{format_clock(start)} - {format_clock(end)}]", text.strip() or "(no answer)"]
    return "\n".join(lines)
