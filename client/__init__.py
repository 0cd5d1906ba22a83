"""framestamp.client: ask a video when things happen, get typed events back.

    from framestamp.client import TemporalClient
    client = TemporalClient(base_url="http://localhost:8000/v1")
    print(client.find("clip.mp4", "a person enters the room").events)
"""

from framestamp.client._client import AnswerStream, AsyncAnswerStream, AsyncTemporalClient, TemporalClient
from framestamp.client.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    EngineUnavailableError,
    FramestampError,
    InternalServerError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
)
from framestamp.client.exports import ExportError, ExportFormat, export_events
from framestamp.client.types import AnswerDelta, TemporalAnswer, TemporalEvent, UploadedFile, Usage, VideoSummary

__all__ = [
    "TemporalClient", "AsyncTemporalClient", "AnswerStream", "AsyncAnswerStream",
    "TemporalAnswer", "TemporalEvent", "AnswerDelta", "UploadedFile", "Usage", "VideoSummary",
    "ExportFormat", "ExportError", "export_events",
    "FramestampError", "APIError", "BadRequestError", "AuthenticationError", "PermissionDeniedError",
    "NotFoundError", "PayloadTooLargeError", "RateLimitError", "EngineUnavailableError", "InternalServerError",
    "APIConnectionError", "APITimeoutError",
]
