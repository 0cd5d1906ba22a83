"""Each export, read back by an independent reader of its format, keeps the times."""

import csv
import io
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framestamp.client.exports import (
    ExportError,
    ExportFormat,
    chapter_spans,
    export_events,
    spans,
    to_youtube_chapters,
)
from framestamp.client.types import TemporalEvent
from framestamp.serving.events import Event

EVENTS = [
    TemporalEvent(start=0.0, end=12.5, text="title card"),
    TemporalEvent(start=12.5, end=40.25, text="a person enters the room"),
    TemporalEvent(start=40.25, end=None, text="the door closes"),
    Event(start=75.5, end=90.0, text="人物离开房间"),  # plain core events export too
]
DURATION = 120.0
EXPECTED = spans(EVENTS, duration=DURATION)


def test_spans_fill_missing_ends_without_overlapping_the_next_event():
    assert [(s.start, s.end) for s in EXPECTED] == [(0.0, 12.5), (12.5, 40.25), (40.25, 42.25), (75.5, 90.0)]


def test_srt_read_back_by_srt():
    import srt

    subtitles = list(srt.parse(export_events(EVENTS, "srt", duration=DURATION)))
    assert [(s.start.total_seconds(), s.end.total_seconds(), s.content) for s in subtitles] == [
        (s.start, s.end, s.text) for s in EXPECTED
    ]


def test_webvtt_read_back_by_webvtt_py():
    import webvtt

    captions = webvtt.from_string(export_events(EVENTS, "vtt", duration=DURATION))
    assert [(c.start_time.in_milliseconds() / 1000, c.end_time.in_milliseconds() / 1000, c.text) for c in captions] == [
        (pytest.approx(s.start, abs=1e-3), pytest.approx(s.end, abs=1e-3), s.text) for s in EXPECTED
    ]


def test_webvtt_chapters_tile_the_video():
    import webvtt

    cues = list(webvtt.from_string(export_events(EVENTS, ExportFormat.VTT_CHAPTERS, duration=DURATION)))
    assert [c.start_time.in_milliseconds() / 1000 for c in cues] == pytest.approx([0.0, 12.5, 40.25, 75.5], abs=1e-3)
    assert [c.end_time.in_milliseconds() / 1000 for c in cues] == pytest.approx([12.5, 40.25, 75.5, 120.0], abs=1e-3)


def _read_youtube(text):
    chapters = []
    for line in text.strip().splitlines():
        match = re.fullmatch(r"(?:(\d+):)?(\d{1,2}):(\d{2}) (.+)", line)
        assert match, line
        hours, minutes, seconds, title = match.groups()
        chapters.append((int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds), title))
    return chapters


def test_youtube_chapters_follow_youtubes_rules():
    chapters = _read_youtube(to_youtube_chapters(EVENTS, duration=DURATION))
    assert chapters == [(0, "title card"), (12, "a person enters the room"), (40, "the door closes"),
                        (75, "人物离开房间")]
    late_start = [TemporalEvent(start=5, text="a"), TemporalEvent(start=30, text="b"),
                  TemporalEvent(start=31, text="too close"), TemporalEvent(start=60, text="c")]
    assert _read_youtube(to_youtube_chapters(late_start, duration=100)) == [(0, "a"), (30, "b"), (60, "c")]
    with pytest.raises(ExportError, match="at least 3"):
        to_youtube_chapters([TemporalEvent(start=0, text="a"), TemporalEvent(start=20, text="b")], duration=60)
    hour = to_youtube_chapters([TemporalEvent(start=t, text=str(t)) for t in (0, 1800, 3700)], duration=4000)
    assert hour.splitlines()[-1] == "1:01:40 3700"


def test_csv_and_json():
    rows = list(csv.DictReader(io.StringIO(export_events(EVENTS, "csv", duration=DURATION))))
    assert [(float(r["start_seconds"]), float(r["end_seconds"]), r["text"]) for r in rows] == [
        (s.start, s.end, s.text) for s in EXPECTED
    ]
    assert rows[1]["start"] == "00:00:12.500"
    data = json.loads(export_events(EVENTS, "json", duration=DURATION))
    assert [e["start"] for e in data["events"]] == [0.0, 12.5, 40.25, 75.5] and data["events"][2]["end"] is None


def test_edl_read_back_by_pycmx():
    import pycmx

    text = export_events(EVENTS, "edl", duration=DURATION, fps=25, video_name="clip.mp4")
    edl = pycmx.parse_cmx3600(io.StringIO(text))
    edits = [edit for event in edl.events for edit in event.edits]
    assert len(edits) == len(EXPECTED)

    def seconds(timecode):
        h, m, s, f = map(int, re.split(r"[:;]", timecode))
        return h * 3600 + m * 60 + s + f / 25

    for edit, span in zip(edits, EXPECTED):
        assert seconds(edit.source_in) == pytest.approx(span.start, abs=1 / 25)
        assert seconds(edit.source_out) == pytest.approx(span.end, abs=1 / 25)


def test_otio_read_back_by_opentimelineio():
    import opentimelineio as otio

    timeline = otio.adapters.read_from_string(export_events(EVENTS, "otio", duration=DURATION, fps=30), "otio_json")
    clips = list(timeline.find_clips())
    assert [c.name for c in clips] == [s.text for s in EXPECTED]
    for clip, span in zip(clips, EXPECTED):
        assert clip.source_range.start_time.to_seconds() == pytest.approx(span.start, abs=1 / 30)
        assert clip.source_range.end_time_exclusive().to_seconds() == pytest.approx(span.end, abs=1 / 30)


def test_no_events_is_an_error_for_chapters_only():
    assert export_events([], "srt") == ""
    with pytest.raises(ExportError):
        chapter_spans([], duration=10)


times = st.floats(min_value=0, max_value=20_000, allow_nan=False).map(lambda t: round(t, 3))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(times, st.one_of(st.none(), times), st.text(min_size=1, max_size=30)), max_size=12))
def test_any_events_round_trip_through_srt_and_vtt(raw):
    import srt
    import webvtt

    events = [TemporalEvent(start=s, end=e, text=t) for s, e, t in raw]
    expected = spans(events)
    subtitles = list(srt.parse(export_events(events, "srt")))
    assert len(subtitles) == len(expected)
    for sub, span in zip(subtitles, expected):
        assert sub.start.total_seconds() == pytest.approx(span.start, abs=1e-3)
        assert sub.end.total_seconds() == pytest.approx(span.end, abs=1e-3)
    cues = list(webvtt.from_string(export_events(events, "vtt")))
    assert [c.start_time.in_milliseconds() / 1000 for c in cues] == pytest.approx([s.start for s in expected], abs=1e-3)
