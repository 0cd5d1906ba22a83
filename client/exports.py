"""Events out to the formats people put on timelines.

Each writer uses the library that owns its format where one exists: `srt`
for SubRip, `webvtt-py` for WebVTT (captions, and chapter tracks for
`<track kind="chapters">`), OpenTimelineIO for .otio timelines and, through
its CMX 3600 adapter, EDLs for editors. CSV, JSON and YouTube chapter lines
are simple enough for the standard library.

Events without an end get one: the next event's start or DEFAULT_EVENT_SECONDS
later, whichever comes first, never past the video's end.
"""

from __future__ import annotations

import csv
import enum
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

DEFAULT_EVENT_SECONDS = 2.0
# YouTube's rules for chapters in a description.
YOUTUBE_MIN_CHAPTERS = 3
YOUTUBE_MIN_CHAPTER_SECONDS = 10.0


class ExportFormat(str, enum.Enum):
    SRT = "srt"
    VTT = "vtt"
    VTT_CHAPTERS = "vtt-chapters"
    YOUTUBE_CHAPTERS = "chapters"
    CSV = "csv"
    JSON = "json"
    EDL = "edl"
    OTIO = "otio"

    @property
    def suffix(self) -> str:
        return {"vtt-chapters": ".chapters.vtt", "chapters": ".chapters.txt"}.get(self.value, f".{self.value}")


class ExportError(ValueError):
    """The events cannot be written in this format (the message says why)."""


class TimedText(Protocol):
    start: float
    end: float | None
    text: str


@dataclass(frozen=True)
class Span:
    start: float
    end: float
    text: str


def spans(events: Sequence[TimedText], *, duration: float | None = None) -> list[Span]:
    """Sorted events, each with an end (see the module doc)."""
    ordered = sorted(events, key=lambda e: (e.start, e.end if e.end is not None else e.start))
    result = []
    for i, event in enumerate(ordered):
        end = event.end
        if end is None or end <= event.start:
            end = event.start + DEFAULT_EVENT_SECONDS
            later = [e.start for e in ordered[i + 1:] if e.start > event.start]
            if later:
                end = min(end, later[0])
        if duration is not None:
            end = min(end, duration)
        end = max(end, event.start + 0.001)
        result.append(Span(event.start, end, _one_line(event.text)))
    return result


def _one_line(text: str) -> str:
    """Event text as one cue line: no line breaks (they end an SRT/VTT cue) and
    no '-->' (it starts a timing line)."""
    return " ".join(text.replace("-->", "→").split()) or "(event)"


def to_srt(events: Sequence[TimedText], *, duration: float | None = None) -> str:
    import srt

    subtitles = [
        srt.Subtitle(index=i, start=timedelta(seconds=s.start), end=timedelta(seconds=s.end), content=s.text)
        for i, s in enumerate(spans(events, duration=duration), start=1)
    ]
    return srt.compose(subtitles)


def _vtt_time(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def to_webvtt(events: Sequence[TimedText], *, duration: float | None = None, chapters: bool = False) -> str:
    """Captions; with chapters=True, a chapter track (each cue runs to the next)."""
    import webvtt

    items = chapter_spans(events, duration=duration) if chapters else spans(events, duration=duration)
    vtt = webvtt.WebVTT()
    for s in items:
        vtt.captions.append(webvtt.Caption(_vtt_time(s.start), _vtt_time(s.end), s.text))
    return vtt.content


def chapter_spans(events: Sequence[TimedText], *, duration: float | None) -> list[Span]:
    """Chapters tile the video: each starts at an event and runs to the next one."""
    starts: list[tuple[float, str]] = []
    for s in spans(events, duration=duration):
        if not starts or s.start > starts[-1][0]:
            starts.append((s.start, s.text))
    if not starts:
        raise ExportError("there are no events to make chapters of")
    last_end = duration if duration is not None else spans(events)[-1].end
    return [
        Span(start, starts[i + 1][0] if i + 1 < len(starts) else max(last_end, start + 0.001), text)
        for i, (start, text) in enumerate(starts)
    ]


def _youtube_time(seconds: float, with_hours: bool) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if with_hours else f"{minutes}:{secs:02d}"


def to_youtube_chapters(events: Sequence[TimedText], *, duration: float | None = None) -> str:
    """Chapter lines for a YouTube description, following YouTube's rules:
    the first at 0:00, at least three, each at least ten seconds long, in
    order. The first chapter is moved to 0:00; chapters shorter than ten
    seconds are folded into the one before; ExportError if fewer than three
    remain."""
    chapters = [[int(s.start), s.text] for s in chapter_spans(events, duration=duration)]
    chapters[0][0] = 0
    merged: list[list] = []
    for start, text in chapters:
        if merged and start - merged[-1][0] < YOUTUBE_MIN_CHAPTER_SECONDS:
            continue  # too close to the previous chapter: it absorbs this one
        merged.append([start, text])
    end = duration if duration is not None else chapter_spans(events, duration=None)[-1].end
    if len(merged) > 1 and end - merged[-1][0] < YOUTUBE_MIN_CHAPTER_SECONDS:
        merged.pop()
    if len(merged) < YOUTUBE_MIN_CHAPTERS:
        raise ExportError(
            f"YouTube needs at least {YOUTUBE_MIN_CHAPTERS} chapters of {YOUTUBE_MIN_CHAPTER_SECONDS:g} s or more; "
            f"these events make {len(merged)}"
        )
    with_hours = end >= 3600
    return "\n".join(f"{_youtube_time(start, with_hours)} {text}" for start, text in merged) + "\n"


def to_csv(events: Sequence[TimedText], *, duration: float | None = None) -> str:
    """Marker rows: start and end in seconds and as HH:MM:SS.mmm, and the text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["start_seconds", "end_seconds", "start", "end", "text"])
    for s in spans(events, duration=duration):
        writer.writerow([f"{s.start:.3f}", f"{s.end:.3f}", _vtt_time(s.start), _vtt_time(s.end), s.text])
    return buffer.getvalue()


def to_json(events: Sequence[TimedText], *, duration: float | None = None) -> str:
    return json.dumps(
        {"duration": duration, "events": [{"start": e.start, "end": e.end, "text": e.text} for e in events]},
        ensure_ascii=False, indent=2,
    ) + "\n"


def _timeline(events: Sequence[TimedText], *, duration: float | None, fps: float, video_name: str, title: str):
    """One track with a clip per event, cut from the source video at the event's times."""
    import opentimelineio as otio

    def at(seconds: float) -> otio.opentime.RationalTime:
        return otio.opentime.RationalTime(round(seconds * fps), fps)

    timeline = otio.schema.Timeline(name=title)
    track = otio.schema.Track(name="events", kind=otio.schema.TrackKind.Video)
    timeline.tracks.append(track)
    available = otio.opentime.TimeRange(at(0), at(duration)) if duration else None
    for s in spans(events, duration=duration):
        reference = otio.schema.ExternalReference(target_url=video_name, available_range=available)
        track.append(otio.schema.Clip(
            name=s.text,
            media_reference=reference,
            source_range=otio.opentime.TimeRange(at(s.start), at(s.end) - at(s.start)),
        ))
    return timeline


def to_otio(
    events: Sequence[TimedText], *, duration: float | None = None, fps: float = 30.0,
    video_name: str = "video.mp4", title: str = "framestamp events",
) -> str:
    import opentimelineio as otio

    return otio.adapters.write_to_string(_timeline(events, duration=duration, fps=fps, video_name=video_name,
                                                   title=title), "otio_json")


def to_edl(
    events: Sequence[TimedText], *, duration: float | None = None, fps: float = 30.0,
    video_name: str = "video.mp4", title: str = "framestamp events",
) -> str:
    """A CMX 3600 EDL: one cut per event, source times from the video (integer
    frame rates only, as CMX 3600 timecode has no fractional rates)."""
    import opentimelineio as otio

    rate = round(fps)
    if rate not in (24, 25, 30, 48, 50, 60):
        rate = 30
    timeline = _timeline(events, duration=duration, fps=rate, video_name=video_name, title=title)
    try:
        return otio.adapters.write_to_string(timeline, "cmx_3600")
    except Exception as exc:  # the adapter raises its own types for unsupported timelines
        raise ExportError(f"cannot write an EDL: {exc}") from None


def export_events(
    events: Sequence[TimedText], fmt: ExportFormat | str, *, duration: float | None = None,
    fps: float = 30.0, video_name: str = "video.mp4", title: str = "framestamp events",
) -> str:
    """Write `events` in `fmt` (see ExportFormat)."""
    fmt = ExportFormat(fmt)
    if fmt is ExportFormat.SRT:
        return to_srt(events, duration=duration)
    if fmt is ExportFormat.VTT:
        return to_webvtt(events, duration=duration)
    if fmt is ExportFormat.VTT_CHAPTERS:
        return to_webvtt(events, duration=duration, chapters=True)
    if fmt is ExportFormat.YOUTUBE_CHAPTERS:
        return to_youtube_chapters(events, duration=duration)
    if fmt is ExportFormat.CSV:
        return to_csv(events, duration=duration)
    if fmt is ExportFormat.JSON:
        return to_json(events, duration=duration)
    if fmt is ExportFormat.EDL:
        return to_edl(events, duration=duration, fps=fps, video_name=video_name, title=title)
    return to_otio(events, duration=duration, fps=fps, video_name=video_name, title=title)
