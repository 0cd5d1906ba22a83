"""parse_events on a corpus of realistic answers, plus properties on any string."""

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framestamp.serving.events import Event, Granularity, event_time_texts, format_clock, render_events
from framestamp.serving.parsing import parse_answer, parse_events, parse_time

CORPUS = json.loads((Path(__file__).parents[1] / "benchmarks/data/parse_corpus.json").read_text())


def test_corpus_is_large_and_bilingual():
    assert len(CORPUS) >= 60
    assert sum(any("\u4e00" <= ch <= "\u9fff" for ch in case["text"]) for case in CORPUS) >= 15


@pytest.mark.parametrize("case", CORPUS, ids=[f"{i}-{c['tag']}" for i, c in enumerate(CORPUS)])
def test_corpus_case(case):
    events = parse_events(case["text"], duration=case["duration"])
    expected = case["events"]
    assert len(events) == len(expected), [(e.start, e.end, e.text) for e in events]
    for event, (start, end, text) in zip(events, expected):
        assert event.start == pytest.approx(start, abs=0.05)
        if end is None:
            assert event.end is None
        else:
            assert event.end == pytest.approx(end, abs=0.05)
        assert text in event.text


def test_out_of_range_times_are_reported():
    report = parse_answer("goal at 00:02:00; song from 50 to 70 seconds", duration=60.0)
    assert [e.start for e in report.events] == [50.0]
    assert report.events[0].end == 60.0
    assert any("dropped" in w for w in report.warnings)
    assert any("clamped" in w for w in report.warnings)


def test_reversed_range_is_swapped_and_reported():
    report = parse_answer("00:00:20 - 00:00:10 replay")
    assert (report.events[0].start, report.events[0].end) == (10.0, 20.0)
    assert any("reversed" in w for w in report.warnings)


@pytest.mark.parametrize(
    "text,seconds",
    [("01:23.4", 83.4), ("83.4", 83.4), ("83.4s", 83.4), ("1分23秒", 83.0), ("00:01:23.400", 83.4), ("nope", None)],
)
def test_parse_time(text, seconds):
    assert parse_time(text) == (pytest.approx(seconds) if seconds is not None else None)


@settings(max_examples=500)
@given(st.text())
def test_parse_never_raises_on_any_string(text):
    report = parse_answer(text, duration=100.0)
    for event in report.events:
        assert math.isfinite(event.start) and 0 <= event.start <= 100.0
        assert event.end is None or event.start <= event.end <= 100.0


timed_piece = st.one_of(
    st.from_regex(r"\d{1,2}:\d{2}(:\d{2})?(\.\d{1,3})?", fullmatch=True),
    st.from_regex(r"\d{1,4}(\.\d{1,2})? ?(s|sec|seconds|秒)", fullmatch=True),
    st.sampled_from(["-", "–", "~", " to ", "至", "到", ": ", "：", "\n", "{", "}", "[", "]", '"', ",", "```json\n"]),
    st.text(max_size=8),
)


@settings(max_examples=500)
@given(st.lists(timed_piece, max_size=30).map("".join))
def test_parse_never_raises_on_time_like_text(text):
    events = parse_events(text)
    assert events == sorted(events, key=lambda e: (e.start, math.inf if e.end is None else e.end))


def test_deeply_nested_json_does_not_crash():
    assert parse_events("[" * 100_000 + "]" * 100_000) == []


@given(st.floats(0, 360_000, allow_nan=False))
def test_subsecond_rendering_round_trips_through_the_parser(seconds):
    text = format_clock(seconds, millis=True)
    assert parse_time(text) == pytest.approx(round(seconds * 1000) / 1000, abs=1e-6)


def test_granularity_rendering():
    event = Event(65.4321, 70.0, "a door opens")
    assert event_time_texts(event, Granularity.SECOND) == ("00:01:05", "00:01:10")
    assert event_time_texts(event, Granularity.SUBSECOND) == ("00:01:05.432", "00:01:10.000")
    assert event_time_texts(event, Granularity.COARSE) == ("01:00", "01:30")
    assert event_time_texts(event, Granularity.COARSE, bucket=10) == ("01:00", "01:10")
    assert render_events([Event(5, None, "人物进入房间")]) == ["- 人物进入房间：00:00:05"]
    assert render_events([event], Granularity.SUBSECOND, language="en") == [
        "- a door opens: 00:01:05.432 - 00:01:10.000"
    ]
