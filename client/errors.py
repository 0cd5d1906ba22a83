"""Typed exceptions carrying the server's own message.

The client talks through the OpenAI SDK; its exceptions are translated here
so callers catch framestamp's names and read `code` (`video_not_found`,
`invalid_video`, `engine_unavailable`, ...) without parsing bodies.
"""

from __future__ import annotations

import openai


class FramestampError(Exception):
    """Anything the client raises."""


class APIError(FramestampError):
    """The server answered with an error (OpenAI error format)."""

    def __init__(
        self, message: str, *, status_code: int, code: str | None = None, param: str | None = None,
        request_id: str | None = None, retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code
        self.param = param
        self.request_id = request_id
        self.retry_after = retry_after

    def __str__(self) -> str:
        code = f" [{self.code}]" if self.code else ""
        return f"{self.status_code}{code}: {self.message}"


class BadRequestError(APIError):
    """400: the request, the options or the video is not acceptable."""


class AuthenticationError(APIError):
    """401: missing or wrong API key."""


class PermissionDeniedError(APIError):
    """403: e.g. a path outside the server's media directory."""


class NotFoundError(APIError):
    """404: no such video, file id or route."""


class PayloadTooLargeError(APIError):
    """413: the video or request is over the server's limit."""


class RateLimitError(APIError):
    """429: too many requests in flight for this key; see retry_after."""


class EngineUnavailableError(APIError):
    """503: the engine is down or starting; see retry_after."""


class InternalServerError(APIError):
    """5xx other than 503."""


class APIConnectionError(FramestampError):
    """The server could not be reached."""


class APITimeoutError(APIConnectionError):
    """The server did not answer in time."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError, 401: AuthenticationError, 403: PermissionDeniedError, 404: NotFoundError,
    413: PayloadTooLargeError, 429: RateLimitError, 503: EngineUnavailableError,
}


def translate(exc: Exception) -> Exception:
    """The framestamp exception for an OpenAI SDK exception (others unchanged)."""
    if isinstance(exc, openai.APITimeoutError):
        return APITimeoutError(str(exc))
    if isinstance(exc, openai.APIConnectionError):
        return APIConnectionError(str(exc))
    if isinstance(exc, openai.APIStatusError):
        body = exc.body if isinstance(exc.body, dict) else {}
        error = body.get("error", body) if isinstance(body.get("error", body), dict) else {}
        message = error.get("message") or exc.message
        retry = exc.response.headers.get("retry-after")
        kind = _BY_STATUS.get(exc.status_code, InternalServerError if exc.status_code >= 500 else APIError)
        return kind(
            message, status_code=exc.status_code, code=error.get("code"), param=error.get("param"),
            request_id=exc.response.headers.get("x-request-id"),
            retry_after=float(retry) if retry and retry.replace(".", "", 1).isdigit() else None,
        )
    return exc
