"""Typed results of the client: what a temporal answer holds."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from framestamp.serving.events import Event, Granularity


class TemporalEvent(BaseModel):
    """One event of an answer: seconds from the start of the video, and the
    same times written at the granularity that was asked for."""

    model_config = ConfigDict(frozen=True)

    start: float
    end: float | None = None
    start_text: str = ""
    end_text: str | None = None
    text: str = ""

    def to_event(self) -> Event:
        return Event(start=self.start, end=self.end, text=self.text)


class VideoSummary(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")

    width: int | None = None
    height: int | None = None
    rotation: int = 0
    variable_frame_rate: bool = False
    fps: float | None = None
    sampled_width: int | None = None
    sampled_height: int | None = None


class Usage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class TemporalAnswer(BaseModel):
    """The model's answer, and the events parsed from it.

    events is empty when the answer names no time; it is None only when the
    request asked for no timestamps (return_timestamps=False) or temporal
    modeling was off.
    """

    model_config = ConfigDict(frozen=True)

    text: str
    events: list[TemporalEvent] | None = None
    granularity: Granularity = Granularity.SECOND
    duration: float | None = None
    frame_times: list[float] = Field(default_factory=list)
    effective_fps: float | None = None
    video: VideoSummary | None = None
    warnings: list[str] = Field(default_factory=list)
    usage: Usage | None = None
    model: str | None = None
    id: str | None = None
    finish_reason: str | None = None

    @classmethod
    def from_parts(
        cls, *, text: str, temporal: dict[str, Any] | None, usage: Any = None,
        model: str | None = None, id: str | None = None, finish_reason: str | None = None,
    ) -> TemporalAnswer:
        temporal = temporal or {}
        if usage is not None and not isinstance(usage, dict):
            usage = usage.model_dump() if hasattr(usage, "model_dump") else dict(usage)
        return cls(
            text=text,
            events=temporal.get("events"),
            granularity=temporal.get("granularity", Granularity.SECOND),
            duration=temporal.get("duration"),
            frame_times=temporal.get("frame_times") or [],
            effective_fps=temporal.get("effective_fps"),
            video=temporal.get("video"),
            warnings=temporal.get("warnings") or [],
            usage=usage,
            model=model,
            id=id,
            finish_reason=finish_reason,
        )


class AnswerDelta(BaseModel):
    """A piece of the answer's text, as it streams in."""

    model_config = ConfigDict(frozen=True)

    text: str


class UploadedFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")

    id: str
    filename: str
    bytes: int
    created_at: int
    expires_at: int | None = None
