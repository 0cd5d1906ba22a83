"""framestamp: exact video timestamps from Qwen3-VL on vLLM.

Public names are imported lazily, so `import framestamp` stays light for a
client-only install (no PyAV, no Starlette) until a server-side name is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_EXPORTS = {
    # events and granularity (standard library only)
    "Event": "framestamp.serving.events",
    "Granularity": "framestamp.serving.events",
    "format_time": "framestamp.serving.events",
    "event_time_texts": "framestamp.serving.events",
    "render_events": "framestamp.serving.events",
    # parsing (standard library only)
    "parse_events": "framestamp.serving.parsing",
    "parse_answer": "framestamp.serving.parsing",
    "parse_time": "framestamp.serving.parsing",
    "ParsedAnswer": "framestamp.serving.parsing",
    # sampling (PyAV)
    "SamplingPolicy": "framestamp.serving.sampling",
    "SamplingError": "framestamp.serving.sampling",
    "plan_sampling": "framestamp.serving.sampling",
    "probe_video": "framestamp.serving.video",
    "sample_frames": "framestamp.serving.video",
    "FrameSampler": "framestamp.serving.video",
    "VideoInfo": "framestamp.serving.video",
    "SampledVideo": "framestamp.serving.video",
    "SampledFrame": "framestamp.serving.video",
    "VideoError": "framestamp.serving.video",
    # injection
    "engine_video": "framestamp.serving.inject",
    "inject_video": "framestamp.serving.inject",
    "group_timestamps": "framestamp.serving.inject",
    "EngineVideo": "framestamp.serving.inject",
    # the client (OpenAI SDK) and exports
    "TemporalClient": "framestamp.client",
    "AsyncTemporalClient": "framestamp.client",
    "TemporalAnswer": "framestamp.client",
    "TemporalEvent": "framestamp.client",
    "ExportFormat": "framestamp.client",
    "export_events": "framestamp.client",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'framestamp' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:
    from framestamp.client import (
        AsyncTemporalClient, ExportFormat, TemporalAnswer, TemporalClient, TemporalEvent, export_events,
    )
    from framestamp.serving.events import Event, Granularity, event_time_texts, format_time, render_events
    from framestamp.serving.inject import EngineVideo, engine_video, group_timestamps, inject_video
    from framestamp.serving.parsing import ParsedAnswer, parse_answer, parse_events, parse_time
    from framestamp.serving.sampling import SamplingError, SamplingPolicy, plan_sampling
    from framestamp.serving.video import (
        FrameSampler, SampledFrame, SampledVideo, VideoError, VideoInfo, probe_video, sample_frames,
    )
