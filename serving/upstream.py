"""Talking to the engines: requests with failover, streamed relays, engine errors.

Every function takes the EngineRouter, so the adapter's handlers only say
what to send and for which video (the routing key).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
from starlette.responses import JSONResponse, Response, StreamingResponse

from framestamp.serving.errors import APIError
from framestamp.serving.routing import Engine, EngineRouter, is_connection_failure


def engine_unreachable(exc: Exception) -> APIError:
    if isinstance(exc, httpx.TimeoutException):
        return APIError(504, "the engine did not answer in time", code="engine_timeout")
    return APIError(503, "the engine is not reachable; try again shortly", code="engine_unavailable", retry_after=5)


async def engine_post(router: EngineRouter, body: dict[str, Any], *, key: str | None = None) -> tuple[httpx.Response, Engine]:
    """POST to the engine that owns `key` (a video's hash), failing over on refused connections."""
    failure: Exception | None = None
    for engine in router.candidates(key):
        async with router.using(engine):
            try:
                return await engine.client.post("/v1/chat/completions", json=body), engine
            except httpx.HTTPError as exc:
                if not is_connection_failure(exc):
                    raise engine_unreachable(exc) from None
                router.eject(engine, f"{type(exc).__name__}")
                failure = exc
    raise engine_unreachable(failure or httpx.ConnectError("no engine"))


class UpstreamError(Exception):
    def __init__(self, response: httpx.Response) -> None:
        self.response = response


def replay_as_stream(completion: dict[str, Any], *, include_usage: bool) -> Response:
    """A finished completion as SSE chunks (windowed answers exist only once all windows are done)."""
    base = {"id": completion.get("id"), "object": "chat.completion.chunk", "created": completion.get("created"),
            "model": completion.get("model")}
    choice = completion["choices"][0]
    chunks = [
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": choice["message"]["content"]},
                              "finish_reason": None}]},
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": choice["finish_reason"]}]},
    ]
    if include_usage:
        chunks.append({**base, "choices": [], "usage": completion["usage"]})
    chunks.append({**base, "choices": [], "temporal": completion["temporal"]})

    async def events() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode()
        yield b"data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


def relay_error(upstream: httpx.Response) -> Response:
    try:
        body = upstream.json()
    except ValueError:
        body = APIError(upstream.status_code, upstream.text[:500] or "engine error").body()
    return JSONResponse(body, status_code=upstream.status_code)


async def stream_from_engine(
    router: EngineRouter, body: dict[str, Any], payload: Callable[[str], dict[str, Any]] | None, *,
    key: str | None = None,
) -> Response:
    """Relay the engine's stream; with `payload`, add the temporal chunk before [DONE]."""
    upstream, engine = await _open_stream(router, body, key)
    if upstream.status_code != 200:
        await upstream.aread()
        await upstream.aclose()
        engine.in_flight -= 1
        return relay_error(upstream)

    async def relay() -> AsyncIterator[bytes]:
        text: list[str] = []
        last_id = None
        try:
            async for line in upstream.aiter_lines():
                if not line:
                    continue
                if line.strip() == "data: [DONE]" and payload is not None:
                    final = {
                        "id": last_id, "object": "chat.completion.chunk", "created": int(time.time()),
                        "model": body.get("model"), "choices": [], "temporal": payload("".join(text)),
                    }
                    yield f"data: {json.dumps(final, ensure_ascii=False)}\n\n".encode()
                elif payload is not None and line.startswith("data: "):
                    with contextlib.suppress(ValueError):
                        chunk = json.loads(line[6:])
                        last_id = chunk.get("id", last_id)
                        for choice in chunk.get("choices") or []:
                            if choice.get("index", 0) == 0:
                                text.append((choice.get("delta") or {}).get("content") or "")
                yield f"{line}\n\n".encode()
        except httpx.HTTPError:
            error = APIError(503, "the engine stopped answering mid-stream", code="engine_unavailable")
            yield f"data: {json.dumps(error.body())}\n\n".encode()
        finally:
            await upstream.aclose()
            engine.in_flight -= 1

    return StreamingResponse(relay(), media_type="text/event-stream", headers={"x-framestamp-engine": engine.url})


async def _open_stream(router: EngineRouter, body: dict[str, Any], key: str | None) -> tuple[httpx.Response, Engine]:
    """Open a streamed engine response (failing over like engine_post); the
    engine counts as busy until the relay closes it."""
    failure: Exception | None = None
    for engine in router.candidates(key):
        engine.in_flight += 1
        engine.requests += 1
        try:
            request = engine.client.build_request("POST", "/v1/chat/completions", json=body)
            return await engine.client.send(request, stream=True), engine
        except httpx.HTTPError as exc:
            engine.in_flight -= 1
            if not is_connection_failure(exc):
                raise engine_unreachable(exc) from None
            router.eject(engine, type(exc).__name__)
            failure = exc
    raise engine_unreachable(failure or httpx.ConnectError("no engine"))
