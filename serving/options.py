"""The `temporal` extension object of a chat request.

From the OpenAI SDK: `extra_body={"temporal": {...}}`. Field names follow the
seed tutorial's checkboxes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from framestamp.serving.errors import APIError
from framestamp.serving.events import DEFAULT_COARSE_BUCKET, Granularity

DEEPSTACK_NOTE = (
    "use_deepstack has no effect: Qwen3-VL always fuses multi-level vision features "
    "(DeepStack) into its language layers, and no engine setting turns that off"
)


class TemporalOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enable_temporal_modeling: bool = Field(
        True, description="sample frames at their true times and inject them; false sends the video as is"
    )
    return_timestamps: bool = Field(True, description="parse the answer into events with times")
    temporal_granularity: Granularity = Granularity.SECOND
    use_deepstack: bool | None = Field(None, description="accepted for compatibility; see DEEPSTACK_NOTE")
    fps: float | None = Field(None, gt=0, le=30, description="frames sampled per second (default 2)")
    max_frames: int | None = Field(None, ge=2, le=2048)
    start: float | None = Field(None, ge=0, description="seconds; sample from here")
    end: float | None = Field(None, gt=0, description="seconds; sample up to here")
    coarse_bucket: float = Field(DEFAULT_COARSE_BUCKET, gt=0, le=3600)
    language: str = Field("en", pattern="^(en|zh)$", description="language of the format instruction")
    answer_format: Literal["text", "json"] | None = Field(
        None, description="text: lines with times; json: a schema-constrained list of events (default: the server's)"
    )
    # Only structured output can hold the model to these; with text answers
    # they are refused rather than silently ignored.
    long_video: Literal["auto", "downsample", "windows"] = Field(
        "auto", description="when the frames do not fit one request: lower the fps, or ask overlapping windows"
    )
    reduce: bool = Field(False, description="with windows: one more call that writes one answer from the parts")
    min_events: int | None = Field(None, ge=0, le=64, description="json answers: at least this many events")
    max_events: int | None = Field(None, ge=1, le=256, description="json answers: at most this many events")

    @model_validator(mode="after")
    def _window(self) -> TemporalOptions:
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError("end must be after start")
        if self.min_events is not None and self.max_events is not None and self.min_events > self.max_events:
            raise ValueError("min_events must not exceed max_events")
        return self


def parse_temporal_options(raw: object) -> TemporalOptions:
    if raw is None:
        return TemporalOptions()
    if not isinstance(raw, dict):
        raise APIError(400, "temporal must be an object", param="temporal", code="invalid_temporal_options")
    try:
        return TemporalOptions.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        param = f"temporal.{where}" if where else "temporal"
        raise APIError(400, f"{param}: {first['msg']}", param=param, code="invalid_temporal_options") from None
