"""Structured output: ask the engine for events as JSON that fits a schema.

With `answer_format: "json"`, the adapter sends vLLM a `response_format` of
type `json_schema` (vLLM's structured outputs constrain decoding to it), so
the answer is always a well-formed list of events whose times lie inside
the video. The free-text form stays the default: see README, "Structured
output", for the measurement behind that choice.
"""

from __future__ import annotations

from typing import Any

MAX_EVENTS = 64
MAX_EVENT_TEXT = 300


def events_schema(duration: float) -> dict[str, Any]:
    """A JSON list of {start, end, text}; times in seconds within [0, duration]."""
    time = {"type": "number", "minimum": 0, "maximum": round(duration, 3)}
    return {
        "type": "array",
        "maxItems": MAX_EVENTS,
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


def events_response_format(duration: float) -> dict[str, Any]:
    return {
        "type": "json_schema",
        "json_schema": {"name": "events", "schema": events_schema(duration), "strict": True},
    }
