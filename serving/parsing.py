"""Read events with times out of what a model writes.

Qwen3-VL (and models like it) answer temporal questions in many forms:
`<12.5 seconds>`, `12.5 - 15.0 seconds`, `from 12 to 15 seconds`, `01:23.40`,
`HH:MM:SS.mmm`, Chinese (`第12秒`, `1分30秒`, `12秒到15秒`), bullet lists in
the seed's style (`- 人物进入房间：00:00:05`), JSON objects keyed by ranges,
JSON lists with start/end/time fields, fenced code blocks, and prose with
several events. `parse_answer` reads all of these; it never raises.

Times past the video's end: an event that *starts* after the end is
dropped, an event that *ends* after it is clamped to the end; both are
reported as warnings. Reversed ranges are swapped (and reported);
identical events are merged.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

from framestamp.serving.events import Event

# Digit runs are capped so a hostile answer cannot make float() or the
# regex engine do unbounded work.
_NUM = r"\d{1,9}(?:[.,]\d{1,6})?"
_SEC_UNIT = r"(?:seconds?|secs?|s(?![a-zA-Z])|秒钟|秒)"
_MIN_UNIT = r"(?:minutes?|mins?|m(?![a-zA-Z])|分钟|分(?!之))"
_HOUR_UNIT = r"(?:hours?|hrs?|h(?![a-zA-Z])|小时|时)"
_SEP = r"(?:-->|--|-|–|—|~|〜|～|\bto\b|\buntil\b|\btill\b|\bthrough\b|\band\b|至|到)"

_CLOCK = (
    r"(?<![\d:.])(?:(?P<ch>\d{1,3}):)?(?P<cm>\d{1,3}):(?P<cs>\d{2})"
    r"(?:[.,](?P<cf>\d{1,3}))?(?!\d|:\d)"
)
_UNITS = (
    r"(?<![\d.])"
    rf"(?:(?P<uh>{_NUM})\s*{_HOUR_UNIT}\s*)?"
    rf"(?:(?P<um>{_NUM})\s*{_MIN_UNIT}\s*)?"
    rf"(?:(?P<us>{_NUM})\s*{_SEC_UNIT})?"
)
# A range whose unit is written once, after the second number:
# `12.5 - 15.0 seconds`, `from 12 to 15 seconds`, `12到15秒`.
_SHARED_UNIT_RANGE = re.compile(
    rf"(?<![\d.:])(?P<a>{_NUM})\s*{_SEP}\s*(?P<b>{_NUM})\s*(?P<unit>{_SEC_UNIT}|{_MIN_UNIT}|{_HOUR_UNIT})",
    re.IGNORECASE,
)
_ATOM = re.compile(rf"{_CLOCK}|{_UNITS}", re.IGNORECASE)
_RANGE_JOIN = re.compile(rf"^\s*[\[(<]?\s*{_SEP}\s*[\[(<]?\s*$", re.IGNORECASE)
# A bare number range or number at the head of a line, followed by a colon:
# `12.5-15.0: a dog runs`. Only there are unit-less numbers taken as seconds.
_LEADING_BARE = re.compile(
    rf"^(?P<a>{_NUM})(?:\s*{_SEP}\s*(?P<b>{_NUM}))?\s*(?=[:：])", re.IGNORECASE
)

_BULLET = re.compile(r"^\s*(?:[-*•·+]|\d{1,3}[.)、]|[（(]?\d{1,3}[)）])\s+")
_FENCE = re.compile(r"```[a-zA-Z]*\s*\n?(.*?)```", re.DOTALL)
_CLAUSE_SPLIT = re.compile(r"(?<=[.;!?。；！？，,])\s+|\s+(?:and then|then|and|while)\s+|(?<=[。；，])")
_EDGE_WORDS = re.compile(
    r"^(?:(?:at|from|between|around|about|approximately|approx\.?|roughly|in|during|on|"
    r"the timestamp|timestamp|time|"
    r"在|于|从|第|约|大约|大概|时间|时刻)\b\s*)+|"
    r"(?:\s*\b(?:at|from|between|about|approximately|in|during|on|of|to|and|by|the)\b)+$",
    re.IGNORECASE,
)
# CJK has no word boundaries: lead-ins like 大约在…时 are matched as characters;
# a bare 时 is stripped only where punctuation follows it.
_EDGE_WORDS_ZH = re.compile(r"^(?:大约|大概|约|在|于|从|第|时(?=[\s，,：:]))+|(?:左右|前后|时)$")
_PUNCT_EDGES = " \t:：,，;；.。-–—~|*_#>\"'`()[]{}<>【】「」“”"

_TEXT_KEYS = (
    "event", "description", "caption", "text", "label", "action", "activity", "content",
    "title", "summary", "name", "desc", "sentence", "事件", "描述", "内容", "动作",
)
_START_KEYS = ("start", "start_time", "starttime", "begin", "from", "start_sec", "start_seconds", "开始", "开始时间")
_END_KEYS = ("end", "end_time", "endtime", "finish", "to", "end_sec", "end_seconds", "结束", "结束时间")
_TIME_KEYS = ("time", "timestamp", "timestamps", "t", "at", "moment", "time_range", "span", "interval", "segment", "时间", "时间戳")


@dataclass(frozen=True)
class ParsedAnswer:
    events: list[Event]
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Mention:
    start: float
    end: float | None
    span: tuple[int, int]
    source: str


def parse_events(text: str, *, duration: float | None = None) -> list[Event]:
    """The events in a model's answer, sorted by start. Never raises."""
    return parse_answer(text, duration=duration).events


def parse_answer(text: str, *, duration: float | None = None) -> ParsedAnswer:
    """Events plus warnings (dropped, clamped, swapped, unparseable)."""
    warnings: list[str] = []
    if not isinstance(text, str) or not text.strip():
        return ParsedAnswer([], warnings)
    try:
        events = _events_from_json(text)
        if not events:
            events = _events_from_lines(text)
    except RecursionError:
        events = []
        warnings.append("the answer is nested too deeply to read")
    events = _fix_and_bound(events, duration, warnings)
    if not events and _looks_timed(text):
        warnings.append("the answer mentions times but no event could be read from it")
    return ParsedAnswer(events, warnings)


# ---------------------------------------------------------------- times


def _num(value: str | None) -> float:
    if not value:
        return 0.0
    return float(value.replace(",", "."))


def _mention_seconds(match: re.Match[str]) -> float | None:
    groups = match.groupdict()
    if groups.get("cm") is not None:
        hours = _num(groups["ch"])
        minutes = _num(groups["cm"])
        seconds = _num(groups["cs"])
        if seconds >= 60 or (groups["ch"] is not None and minutes >= 60):
            return None
        frac = groups.get("cf")
        if frac:
            seconds += int(frac) / 10 ** len(frac)
        return hours * 3600 + minutes * 60 + seconds
    if any(groups.get(k) for k in ("uh", "um", "us")):
        return _num(groups.get("uh")) * 3600 + _num(groups.get("um")) * 60 + _num(groups.get("us"))
    return None


def _unit_scale(unit: str) -> float:
    if re.fullmatch(_HOUR_UNIT, unit, re.IGNORECASE):
        return 3600.0
    if re.fullmatch(_MIN_UNIT, unit, re.IGNORECASE):
        return 60.0
    return 1.0


def find_times(line: str) -> list[_Mention]:
    """Every time or time range in one line, in order of appearance."""
    mentions: list[_Mention] = []
    taken: list[tuple[int, int]] = []
    for m in _SHARED_UNIT_RANGE.finditer(line):
        scale = _unit_scale(m.group("unit"))
        mentions.append(_Mention(_num(m.group("a")) * scale, _num(m.group("b")) * scale, m.span(), m.group(0)))
        taken.append(m.span())
    singles: list[_Mention] = []
    for m in _ATOM.finditer(line):
        if m.end() == m.start() or any(a < m.end() and m.start() < b for a, b in taken):
            continue
        seconds = _mention_seconds(m)
        if seconds is not None:
            singles.append(_Mention(seconds, None, m.span(), m.group(0).strip()))
    if not mentions and not singles:
        bare = _LEADING_BARE.match(_BULLET.sub("", line, count=1))
        if bare:
            offset = len(line) - len(_BULLET.sub("", line, count=1))
            end = _num(bare.group("b")) if bare.group("b") else None
            span = (offset + bare.start(), offset + bare.end())
            return [_Mention(_num(bare.group("a")), end, span, bare.group(0))]
    # Join neighbours separated only by a range word into one range.
    joined: list[_Mention] = []
    for mention in singles:
        prev = joined[-1] if joined else None
        if (
            prev is not None
            and prev.end is None
            and _RANGE_JOIN.match(line[prev.span[1] : mention.span[0]])
        ):
            joined[-1] = _Mention(
                prev.start, mention.start, (prev.span[0], mention.span[1]),
                line[prev.span[0] : mention.span[1]],
            )
        else:
            joined.append(mention)
    mentions.extend(joined)
    mentions.sort(key=lambda m: m.span[0])
    return [m for m in mentions if math.isfinite(m.start) and (m.end is None or math.isfinite(m.end))]


def parse_time(text: str) -> float | None:
    """One time expression (`01:23.4`, `83.4`, `83.4s`, `1分23秒`) in seconds."""
    stripped = text.strip()
    try:
        value = float(stripped)
        return value if math.isfinite(value) and value >= 0 else None
    except ValueError:
        pass
    mentions = find_times(stripped)
    return mentions[0].start if mentions else None


def _looks_timed(text: str) -> bool:
    return bool(re.search(r"\d:\d\d|\d\s*(?:s\b|sec|秒)", text))


# ---------------------------------------------------------------- lines


def _clean_text(text: str) -> str:
    text = text.replace("**", "").replace("__", "")
    text = _BULLET.sub("", text, count=1)
    previous = None
    while previous != text:
        previous = text
        text = text.strip(_PUNCT_EDGES)
        text = _EDGE_WORDS.sub("", text).strip(_PUNCT_EDGES)
        text = _EDGE_WORDS_ZH.sub("", text).strip(_PUNCT_EDGES)
    return re.sub(r"\s{2,}", " ", text)


def _text_without(line: str, mentions: list[_Mention]) -> str:
    pieces, cursor = [], 0
    for m in mentions:
        pieces.append(line[cursor : m.span[0]])
        pieces.append(" ")
        cursor = m.span[1]
    pieces.append(line[cursor:])
    return _clean_text("".join(pieces))


def _events_from_lines(text: str) -> list[Event]:
    events: list[Event] = []
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line:
            continue
        mentions = find_times(line)
        if not mentions:
            continue
        if len(mentions) == 1:
            m = mentions[0]
            events.append(Event(m.start, m.end, _text_without(line, mentions), m.source))
            continue
        events.extend(_events_from_prose(line))
    return events


def _events_from_prose(line: str) -> list[Event]:
    """A line with several times: one event per clause that holds a time."""
    events: list[Event] = []
    pending_text = ""
    for clause in _CLAUSE_SPLIT.split(line):
        if not clause or not clause.strip():
            continue
        mentions = find_times(clause)
        if not mentions:
            pending_text = clause
            continue
        body = _text_without(clause, mentions) or _clean_text(pending_text)
        pending_text = ""
        for m in mentions:
            events.append(Event(m.start, m.end, body, m.source))
    return events


# ---------------------------------------------------------------- JSON


def _json_candidates(text: str) -> list[str]:
    candidates = [m.group(1) for m in _FENCE.finditer(text)]
    stripped = text.strip()
    candidates.append(stripped)
    for open_ch, close_ch in (("[", "]"), ("{", "}")):
        a, b = stripped.find(open_ch), stripped.rfind(close_ch)
        if 0 <= a < b:
            candidates.append(stripped[a : b + 1])
    return candidates


def _events_from_json(text: str) -> list[Event]:
    if "{" not in text and "[" not in text:
        return []
    for candidate in _json_candidates(text):
        try:
            data = json.loads(candidate, strict=False)  # models put raw control characters in strings
        except (ValueError, RecursionError):
            continue
        if isinstance(data, dict | list):
            events = _walk_json(data, depth=0)
            if events:
                return events
    return []


def _json_time(value: object) -> tuple[float | None, float | None]:
    """A JSON value as (start, end): numbers are seconds, strings are parsed."""
    if isinstance(value, bool):
        return None, None
    if isinstance(value, int | float):
        value = float(value)
        return (value, None) if math.isfinite(value) and value >= 0 else (None, None)
    if isinstance(value, str):
        mentions = find_times(value)
        if mentions:
            return mentions[0].start, mentions[0].end
        return parse_time(value), None
    if isinstance(value, list) and 1 <= len(value) <= 2:
        start = _json_time(value[0])[0]
        end = _json_time(value[1])[0] if len(value) == 2 else None
        return start, end
    return None, None


def _json_text(value: object) -> str:
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, dict):
        for key in _TEXT_KEYS:
            for k, v in value.items():
                if isinstance(k, str) and k.lower() == key and isinstance(v, str):
                    return _clean_text(v)
        strings = [v for v in value.values() if isinstance(v, str)]
        return _clean_text(strings[0]) if strings else ""
    if isinstance(value, list):
        return "; ".join(_json_text(v) for v in value if _json_text(v))
    return ""


def _lookup(obj: dict, keys: tuple[str, ...]) -> object:
    lowered = {k.lower(): v for k, v in obj.items() if isinstance(k, str)}
    for key in keys:
        if key in lowered:
            return lowered[key]
    return None


def _walk_json(data: object, depth: int) -> list[Event]:
    if depth > 20:
        return []
    events: list[Event] = []
    if isinstance(data, list):
        for item in data:
            events.extend(_walk_json(item, depth + 1))
        return events
    if not isinstance(data, dict):
        return events
    start_value, end_value = _lookup(data, _START_KEYS), _lookup(data, _END_KEYS)
    time_value = _lookup(data, _TIME_KEYS)
    start, end = None, None
    source = ""
    if start_value is not None:
        start = _json_time(start_value)[0]
        end = _json_time(end_value)[0] if end_value is not None else None
        source = f"{start_value} - {end_value}" if end_value is not None else str(start_value)
    elif time_value is not None:
        start, end = _json_time(time_value)
        source = str(time_value)
    if start is not None:
        events.append(Event(start, end, _json_text(data), source))
        return events
    # Objects keyed by times: {"00:23.00 - 00:48.00": "a man opens the door"}.
    for key, value in data.items():
        if not isinstance(key, str):
            continue
        mentions = find_times(key)
        if len(mentions) == 1 and _text_without(key, mentions) == "":
            m = mentions[0]
            events.append(Event(m.start, m.end, _json_text(value), key))
        elif isinstance(value, dict | list):
            events.extend(_walk_json(value, depth + 1))
    return events


# ---------------------------------------------------------------- bounds


def _fix_and_bound(events: list[Event], duration: float | None, warnings: list[str]) -> list[Event]:
    fixed: list[Event] = []
    for event in events:
        start, end = event.start, event.end
        if end is not None and end < start:
            warnings.append(f"reversed range {event.source!r} read as {end:g}-{start:g} s")
            start, end = end, start
        if duration is not None and math.isfinite(duration):
            if start > duration + 1e-6:
                warnings.append(
                    f"dropped {event.source!r}: starts at {start:g} s, after the video's end ({duration:.3f} s)"
                )
                continue
            if end is not None and end > duration + 1e-6:
                warnings.append(f"clamped {event.source!r}: ends at {end:g} s, after the video's end ({duration:.3f} s)")
                end = duration
        fixed.append(Event(start, end, event.text, event.source))
    fixed.sort(key=lambda e: (e.start, math.inf if e.end is None else e.end))
    merged: list[Event] = []
    for event in fixed:
        same = next(
            (
                i
                for i, kept in enumerate(merged)
                if abs(kept.start - event.start) < 1e-3
                and (kept.end is None) == (event.end is None)
                and (kept.end is None or abs(kept.end - event.end) < 1e-3)
                and (kept.text == event.text or not kept.text or not event.text)
            ),
            None,
        )
        if same is None:
            merged.append(event)
        elif not merged[same].text and event.text:
            merged[same] = event
    return merged
