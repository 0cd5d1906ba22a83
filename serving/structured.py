"""Structured output: ask the engine for events as JSON that fits a schema.

With `answer_format: "json"`, the adapter sends vLLM `structured_outputs`
with the events' JSON schema (vLLM constrains decoding to it), so
the answer is always a well-formed list of events whose times lie inside
the video. The free-text form stays the default: see README, "Structured
output", for the measurement behind that choice.
"""

from __future__ import annotations

from typing import Any

MAX_EVENTS = 64
MAX_EVENT_TEXT = 200


def events_schema(duration: float, *, min_events: int = 0, max_events: int = MAX_EVENTS) -> dict[str, Any]:
    """A JSON list of {start, end, text}; times in seconds within [0, duration]."""
    time = {"type": "number", "minimum": 0, "maximum": round(duration, 3)}
    return {
        "type": "array",
        "minItems": min_events,
        "maxItems": max_events,
        "items": {
            "type": "object",
            "properties": {
                "start": time,
                "end": {"anyOf": [time, {"type": "null"}]},
                "text": {"type": "string", "maxLength": MAX_EVENT_TEXT},
            },
            "required": ["start", "end", "text"],
            "additionalProperties": False,
        },
    }


def events_structured_outputs(duration: float, *, min_events: int = 0, max_events: int = MAX_EVENTS) -> dict[str, Any]:
    """vLLM's `structured_outputs` request field for the events schema.

    Compact JSON (no free whitespace): a grammar that allows any whitespace
    lets a weak or random model emit newlines until max_tokens.
    """
    schema = events_schema(duration, min_events=min_events, max_events=max_events)
    return {"json": schema, "disable_any_whitespace": True}
