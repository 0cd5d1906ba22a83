"""The adapter: an OpenAI-compatible ASGI service that adds time to video chat.

Users talk to the adapter, never to the engine. A chat request whose user
message carries a `video_url` part is sampled at true presentation times,
the times are injected for the engine (see inject.py), and the answer comes
back as a normal `chat.completion` plus a top-level `temporal` object:

    {"events": [{"start", "end", "start_text", "end_text", "text"}],
     "granularity", "duration", "frame_times", "effective_fps",
     "video": {...}, "warnings": [...]}

Videos arrive as `file://` paths in the media directory, `data:` URLs, or
the ids of files uploaded through `/v1/files` (the OpenAI Files API shape),
named in a `video_url` or in an OpenAI `file` content part.

In streaming mode the engine's chunks pass through as they arrive (usage
included) and one more chunk, `{"object": "chat.completion.chunk",
"choices": [], "temporal": {...}}`, comes just before `data: [DONE]`.
Requests without a video, and unknown fields, go to the engine unchanged.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import time
import uuid
from urllib.parse import urlsplit
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from framestamp.prompts import FormatInstructions, load_formats
from framestamp.serving.cache import DigestMemo, FrameCache
from framestamp.serving.errors import APIError
from framestamp.serving.events import Event, event_time_texts, format_clock
from framestamp.serving.fetch import FetchPolicy, fetch_video
from framestamp.serving import files_api
from framestamp.serving.files import FileStore, owner_of
from framestamp.serving.inject import engine_video, inject_video, video_uuid
from framestamp.serving.media import ResolvedVideo, resolve_video_url
from framestamp.serving.options import DEEPSTACK_NOTE, TemporalOptions, parse_temporal_options
from framestamp.serving.parsing import parse_answer
from framestamp.serving.routing import Engine, EngineRouter
from framestamp.serving.upstream import (
    UpstreamError,
    engine_post,
    engine_unreachable,
    relay_error,
    replay_as_stream,
    stream_from_engine,
)
from framestamp.serving.structured import MAX_EVENTS, events_structured_outputs
from framestamp.serving.sampling import SamplingError, SamplingPolicy
from framestamp.serving.video import FrameSampler, SampledVideo, VideoError, VideoInfo, probe_video
from framestamp.serving.windows import WindowPlan, merge_window_events, plan_windows, reduce_prompt

access_log = logging.getLogger("framestamp.access")


@dataclass(frozen=True)
class AdapterConfig:
    engine_url: str = "http://127.0.0.1:8100"
    # Several engines (replicas): requests for one video stick to one of them.
    engine_urls: tuple[str, ...] = ()
    health_interval: float = 5.0
    engine_api_key: str | None = None
    media_dir: Path | None = None
    # Where /v1/files keeps uploads; None turns the Files API off.
    upload_dir: Path | None = None
    max_upload_store_bytes: int = 20 * 2**30
    upload_ttl_seconds: float | None = 24 * 3600
    # Empty: no authentication (a local, single-user setup).
    api_keys: frozenset[str] = frozenset()
    max_request_bytes: int = 768 * 2**20
    max_video_bytes: int = 512 * 2**20
    request_timeout: float = 600.0
    max_concurrent_per_key: int = 8
    sampler_workers: int = 1
    default_fps: float = 2.0
    default_max_frames: int = 256
    # Visual tokens one video may use; derived from the engine's context length.
    max_visual_tokens: int | None = None
    # Users' prompt directories, layered over prompts/ (see framestamp.prompts).
    prompts_dirs: tuple[Path, ...] = ()
    # "text" or "json" (structured output); requests may choose per call.
    default_answer_format: str = "text"
    # Sampled frames kept for repeated questions (LRU, JPEG bytes); 0 turns it off.
    frame_cache_bytes: int = 1 * 2**30
    # http(s) video URLs: off unless hosts are allowed (see fetch.py).
    fetch: FetchPolicy = FetchPolicy()


@dataclass
class _Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.requests = Counter("framestamp_requests", "Requests by endpoint and status", ["endpoint", "status"], registry=r)
        self.errors = Counter("framestamp_errors", "Errors by kind", ["kind"], registry=r)
        self.latency = Histogram(
            "framestamp_request_seconds", "End-to-end request latency", ["endpoint"], registry=r,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
        )
        self.frames = Counter("framestamp_frames_sampled", "Frames sampled from videos", registry=r)
        self.cache_hits = Counter("framestamp_frame_cache_hits", "Videos served from the frame cache", registry=r)
        self.cache_misses = Counter("framestamp_frame_cache_misses", "Videos decoded (not in the frame cache)",
                                    registry=r)
        self.cache_bytes = Gauge("framestamp_frame_cache_bytes", "Bytes of frames held in the cache", registry=r)
        self.decode = Histogram(
            "framestamp_decode_seconds", "Probe + sample time per video", registry=r,
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120),
        )


class _KeyLimiter:
    """At most `limit` requests in flight per API key; the rest get 429."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight: dict[str, int] = {}

    @contextlib.contextmanager
    def slot(self, key: str):
        if self.in_flight.get(key, 0) >= self.limit:
            raise APIError(429, f"too many concurrent requests for this API key (limit {self.limit})",
                           code="concurrency_limit", retry_after=1)
        self.in_flight[key] = self.in_flight.get(key, 0) + 1
        try:
            yield
        finally:
            self.in_flight[key] -= 1


@dataclass
class _State:
    config: AdapterConfig
    router: EngineRouter
    sampler: FrameSampler
    formats: FormatInstructions
    metrics: _Metrics
    limiter: _KeyLimiter
    files: FileStore | None
    frames: FrameCache
    digests: DigestMemo


def create_app(config: AdapterConfig) -> Starlette:
    formats = load_formats(config.prompts_dirs)  # a broken prompt file fails here, at start-up

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        router = EngineRouter.create(
            config.engine_urls or (config.engine_url,), api_key=config.engine_api_key,
            timeout=config.request_timeout, interval=config.health_interval,
        )
        router.start()
        sampler = FrameSampler(config.sampler_workers)
        files = None
        if config.upload_dir is not None:
            files = FileStore(
                config.upload_dir, max_file_bytes=config.max_video_bytes,
                max_total_bytes=config.max_upload_store_bytes, ttl_seconds=config.upload_ttl_seconds,
            )
        app.state.fs = _State(
            config, router, sampler, formats, _Metrics(), _KeyLimiter(config.max_concurrent_per_key), files,
            FrameCache(config.frame_cache_bytes), DigestMemo(),
        )
        try:
            yield
        finally:
            await router.close()
            sampler.close()

    routes = [
        Route("/v1/chat/completions", _endpoint("chat", _chat_completions), methods=["POST"]),
        Route("/v1/models", _endpoint("models", _models), methods=["GET"]),
        Route("/v1/files", _endpoint("files", _with_files(files_api.upload_file)), methods=["POST"]),
        Route("/v1/files", _endpoint("files", _with_files(files_api.list_files)), methods=["GET"]),
        Route("/v1/files/{file_id}", _endpoint("files", _with_files(files_api.get_file)), methods=["GET"]),
        Route("/v1/files/{file_id}", _endpoint("files", _with_files(files_api.delete_file)), methods=["DELETE"]),
        Route("/v1/files/{file_id}/content", _endpoint("files", _with_files(files_api.file_content)), methods=["GET"]),
        Route("/health", _health, methods=["GET"]),
        Route("/metrics", _metrics, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def _state(request: Request) -> _State:
    return request.app.state.fs


def _endpoint(name: str, handler):
    """Wrap a handler with auth, request id, error mapping, metrics and an access log."""

    async def endpoint(request: Request) -> Response:
        state = _state(request)
        request_id = request.headers.get("x-request-id") or f"req-{uuid.uuid4().hex[:16]}"
        began = time.perf_counter()
        try:
            key = _authenticate(request, state.config)
            request.state.owner = owner_of(key)
            with state.limiter.slot(key):
                response = await handler(request, state)
        except APIError as exc:
            state.metrics.errors.labels(exc.kind).inc()
            response = exc.response()
        except Exception:  # noqa: BLE001 - one bad request must not take the service down
            logging.getLogger("framestamp").exception("unhandled error in %s (%s)", name, request_id)
            state.metrics.errors.labels("internal").inc()
            response = APIError(500, f"internal error (request id {request_id})", code="internal_error").response()
        elapsed = time.perf_counter() - began
        response.headers["x-request-id"] = request_id
        state.metrics.requests.labels(name, str(response.status_code)).inc()
        state.metrics.latency.labels(name).observe(elapsed)
        access_log.info(json.dumps({
            "request_id": request_id, "endpoint": name, "status": response.status_code,
            "seconds": round(elapsed, 4), "client": request.client.host if request.client else None,
        }))
        return response

    return endpoint


def _authenticate(request: Request, config: AdapterConfig) -> str:
    if not config.api_keys:
        return "anonymous"
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or token.strip() not in config.api_keys:
        raise APIError(401, "invalid or missing API key (Authorization: Bearer <key>)", code="invalid_api_key")
    return token.strip()


async def _read_json(request: Request, limit: int) -> dict[str, Any]:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise APIError(413, f"the request body is larger than this server's limit of {limit // 2**20} MiB", code="request_too_large")
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise APIError(413, f"the request body is larger than this server's limit of {limit // 2**20} MiB", code="request_too_large")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise APIError(400, "the request body is not valid JSON", code="invalid_json") from None
    if not isinstance(body, dict):
        raise APIError(400, "the request body must be a JSON object", code="invalid_json")
    return body


def _find_video(body: dict[str, Any]) -> list[tuple[tuple[int, int], dict[str, Any]]]:
    """Where the videos are: `video_url` parts, and OpenAI `file` parts (uploaded ids).

    A `file` part is rewritten in place as the `video_url` part it stands for.
    """
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise APIError(400, "messages must be a list", param="messages", code="invalid_messages")
    found = []
    for i, message in enumerate(messages):
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        for j, part in enumerate(content):
            if not isinstance(part, dict):
                continue
            if part.get("type") == "file" and isinstance(part.get("file"), dict) and part["file"].get("file_id"):
                part = content[j] = {"type": "video_url", "video_url": {"url": part["file"]["file_id"]}}
            if part.get("type") == "video_url":
                found.append(((i, j), part))
    return found


def _policy(options: TemporalOptions, config: AdapterConfig) -> SamplingPolicy:
    try:
        return SamplingPolicy(
            fps=options.fps or config.default_fps,
            max_frames=options.max_frames or config.default_max_frames,
            min_frames=min(4, options.max_frames or 4),
            start=options.start,
            end=options.end,
            max_visual_tokens=config.max_visual_tokens,
        )
    except SamplingError as exc:
        raise APIError(400, str(exc), param="temporal", code="invalid_temporal_options") from None


async def _sample(
    state: _State, resolved: ResolvedVideo, policy: SamplingPolicy, info: VideoInfo | None = None
) -> tuple[SampledVideo, str, bool]:
    """The sampled video, its content hash, and whether it came from the frame cache."""

    def work() -> tuple[SampledVideo, str, bool]:
        digest = resolved.sha256 or state.digests.digest(resolved.source)
        key = f"{digest}:{policy.cache_key()}"
        cached = state.frames.get(key)
        if cached is not None:
            return cached, digest, True
        sampled = state.sampler.sample(resolved.source, policy, info=info)
        state.frames.put(key, sampled)
        return sampled, digest, False

    try:
        sampled, digest, hit = await asyncio.to_thread(work)
    except (VideoError, FileNotFoundError) as exc:
        raise APIError(400, str(exc), param="video_url", code="invalid_video") from None
    except SamplingError as exc:
        raise APIError(400, str(exc), param="temporal", code="invalid_temporal_options") from None
    if hit:
        state.metrics.cache_hits.inc()
    else:
        state.metrics.cache_misses.inc()
        state.metrics.frames.inc(len(sampled.frames))
        state.metrics.decode.observe(sampled.decode_seconds)
    state.metrics.cache_bytes.set(state.frames.bytes)
    return sampled, digest, hit


def _temporal_payload(
    text: str | None, sampled: SampledVideo, options: TemporalOptions, warnings: list[str], *,
    strategy: str = "single", merged: list[Event] | None = None, windows: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The response's `temporal` object. With windows, `sampled` is the first
    window's (for the video's facts), `merged` the windows' merged events."""
    events = None
    all_warnings = list(warnings)
    if options.return_timestamps:
        if merged is None:
            report = parse_answer(text or "", duration=sampled.info.duration)
            all_warnings += report.warnings
            merged = report.events
        events = []
        for event in merged:
            start_text, end_text = event_time_texts(event, options.temporal_granularity, bucket=options.coarse_bucket)
            events.append({
                "start": round(event.start, 3),
                "end": None if event.end is None else round(event.end, 3),
                "start_text": start_text,
                "end_text": end_text,
                "text": event.text,
            })
    info = sampled.info
    times = sorted({t for w in windows for t in w["frame_times"]}) if windows else sampled.times
    span = (windows[-1]["end"] - windows[0]["start"]) if windows else (sampled.end - sampled.start)
    return {
        "events": events,
        "granularity": options.temporal_granularity.value,
        "duration": round(info.duration, 3),
        "frame_times": [round(t, 6) for t in times],
        "effective_fps": round(len(times) / span if span > 0 else 0.0, 4),
        "strategy": strategy,
        "windows": windows,
        "video": {
            "width": info.width, "height": info.height, "rotation": info.rotation,
            "variable_frame_rate": info.variable_frame_rate, "fps": info.fps,
            "sampled_width": sampled.width, "sampled_height": sampled.height,
        },
        "warnings": all_warnings,
    }


async def _chat_completions(request: Request, state: _State) -> Response:
    body = await _read_json(request, state.config.max_request_bytes)
    options = parse_temporal_options(body.pop("temporal", None))
    videos = _find_video(body)
    if not videos or not options.enable_temporal_modeling:
        for _, part in videos:
            await _inline_for_engine(state, part, request.state.owner)
        return await _forward(state, body)
    if len(videos) > 1:
        raise APIError(400, "temporal modeling takes one video per request", param="messages", code="too_many_videos")
    location, part = videos[0]
    url = _part_url(part)
    style = options.answer_format or state.config.default_answer_format
    if not options.return_timestamps:
        style = "text"
    if style != "json" and (options.min_events is not None or options.max_events is not None):
        raise APIError(400, "temporal.min_events and max_events need answer_format 'json' (and return_timestamps): "
                       "only structured output can hold the model to them", param="temporal.answer_format",
                       code="invalid_temporal_options")
    resolved = await _resolve_any(state, url, request.state.owner)
    policy = _policy(options, state.config)
    info = await _probe(resolved)
    plan = plan_windows(
        start=policy.start or 0.0, end=min(policy.end or info.duration, info.duration), fps=policy.fps,
        max_frames=policy.max_frames, mode=options.long_video,
    )
    instruction = state.formats.instruction(
        options.temporal_granularity, options.language, bucket=options.coarse_bucket, style=style
    )
    request_for = _EngineRequest(body, location, instruction, style, options, info.duration)
    warnings = list(plan.warnings)
    if options.use_deepstack is not None:
        warnings.append(DEEPSTACK_NOTE)
    if plan.strategy == "windows":
        return await _windowed(state, request_for, resolved, info, policy, plan, warnings)

    sampled, digest, _ = await _sample(state, resolved, policy, info)
    engine_body = request_for.build(sampled, video_uuid(digest, sampled, policy.cache_key()))
    warnings = list(sampled.warnings) + warnings

    def payload(text: str | None) -> dict[str, Any]:
        return _temporal_payload(text, sampled, options, warnings, strategy=plan.strategy)

    if body.get("stream"):
        return await stream_from_engine(state.router, engine_body, payload, key=digest)
    upstream, engine = await engine_post(state.router, engine_body, key=digest)
    if upstream.status_code != 200:
        return relay_error(upstream)
    completion = upstream.json()
    completion["temporal"] = payload(_message_text(completion))
    return JSONResponse(completion, headers={"x-framestamp-engine": engine.url})


def _part_url(part: dict[str, Any]) -> object:
    video_url = part.get("video_url")
    return video_url.get("url") if isinstance(video_url, dict) else None


def _message_text(completion: dict[str, Any]) -> str | None:
    """The first choice's message content of an engine completion."""
    choices = completion.get("choices") or [{}]
    return (choices[0].get("message") or {}).get("content")


def _total_usage(completions: list[dict[str, Any]]) -> dict[str, int]:
    """Token counts summed over several engine calls (windows, reduce)."""
    keys = ("prompt_tokens", "completion_tokens", "total_tokens")
    return {k: sum((c.get("usage") or {}).get(k, 0) for c in completions) for k in keys}


async def _probe(resolved: ResolvedVideo) -> VideoInfo:
    try:
        return await asyncio.to_thread(probe_video, resolved.source)
    except (VideoError, FileNotFoundError) as exc:
        raise APIError(400, str(exc), param="video_url", code="invalid_video") from None


@dataclass(frozen=True)
class _EngineRequest:
    """Turns a sampled video into the engine request for this user request."""

    body: dict[str, Any]
    location: tuple[int, int]
    instruction: str
    style: str
    options: TemporalOptions
    duration: float

    def build(self, sampled: SampledVideo, uuid: str, *, stream: bool | None = None) -> dict[str, Any]:
        video = engine_video(sampled, uuid=uuid)
        engine_body = inject_video(self.body, video, location=self.location, system_instruction=self.instruction)
        if stream is not None:
            engine_body["stream"] = stream
            if not stream:
                engine_body.pop("stream_options", None)
        if self.style == "json" and "response_format" not in engine_body and "structured_outputs" not in engine_body:
            engine_body["structured_outputs"] = events_structured_outputs(
                self.duration, min_events=self.options.min_events or 0,
                max_events=self.options.max_events or MAX_EVENTS,
            )
        return engine_body

    def question(self) -> str:
        content = self.body["messages"][self.location[0]].get("content") or []
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")


async def _windowed(
    state: _State, request_for: _EngineRequest, resolved: ResolvedVideo, info: VideoInfo, policy: SamplingPolicy,
    plan: WindowPlan, warnings: list[str],
) -> Response:
    """Ask every window (concurrently), merge their events, optionally reduce their answers."""
    options = request_for.options

    async def ask_window(window: tuple[float, float]) -> tuple[SampledVideo, dict[str, Any]]:
        window_policy = replace(policy, start=window[0], end=window[1])
        sampled, digest, _ = await _sample(state, resolved, window_policy, info)
        upstream, _ = await engine_post(
            state.router, request_for.build(sampled, video_uuid(digest, sampled, window_policy.cache_key()), stream=False),
            key=digest,
        )
        if upstream.status_code != 200:
            raise UpstreamError(upstream)
        return sampled, upstream.json()

    try:
        answers = await asyncio.gather(*(ask_window(w) for w in plan.windows))
    except UpstreamError as exc:
        return relay_error(exc.response)
    texts = [_message_text(c) or "" for _, c in answers]
    calls = [c for _, c in answers]
    duration = request_for.duration
    per_window = [parse_answer(text, duration=duration) for text in texts]
    for (sampled, _), report in zip(answers, per_window):
        warnings += list(sampled.warnings) + report.warnings
    tolerance = max(1.0, 2.0 / policy.fps)
    merged = merge_window_events([r.events for r in per_window], tolerance=tolerance)
    text = "\n\n".join(
        f"[{format_clock(s.start)} - {format_clock(s.end)}]\n{t.strip()}" for (s, _), t in zip(answers, texts)
    )
    if options.reduce:
        reduce_body = {
            "model": request_for.body.get("model"),
            "messages": [
                {"role": "system", "content": request_for.instruction},
                {"role": "user", "content": reduce_prompt(request_for.question(), [
                    ((s.start, s.end), t) for (s, _), t in zip(answers, texts)])},
            ],
        }
        for key in ("max_tokens", "max_completion_tokens", "temperature", "top_p", "seed"):
            if key in request_for.body:
                reduce_body[key] = request_for.body[key]
        upstream, _ = await engine_post(state.router, reduce_body)
        if upstream.status_code != 200:
            return relay_error(upstream)
        reduced = upstream.json()
        text = _message_text(reduced) or ""
        calls.append(reduced)
    windows = [{
        "start": round(s.start, 3), "end": round(s.end, 3), "frames": len(s.frames),
        "frame_times": [round(t, 6) for t in s.times],
        **({"prompt_token_ids": c["prompt_token_ids"]} if c.get("prompt_token_ids") else {}),
    } for s, c in answers]
    completion = dict(answers[0][1])
    completion.pop("prompt_token_ids", None)
    completion["choices"] = [{"index": 0, "message": {"role": "assistant", "content": text},
                              "finish_reason": (answers[-1][1].get("choices") or [{}])[0].get("finish_reason")}]
    completion["usage"] = _total_usage(calls)
    completion["temporal"] = _temporal_payload(text, answers[0][0], options, warnings, strategy="windows",
                                               merged=merged, windows=windows)
    if request_for.body.get("stream"):
        return replay_as_stream(completion, include_usage=bool((request_for.body.get("stream_options") or {})
                                                                 .get("include_usage")))
    return JSONResponse(completion)


async def _forward(state: _State, body: dict[str, Any]) -> Response:
    """Send a request the adapter adds nothing to, unchanged, streaming or not."""
    if body.get("stream"):
        return await stream_from_engine(state.router, body, None)
    upstream, _ = await engine_post(state.router, body)
    return Response(upstream.content, status_code=upstream.status_code, media_type="application/json")


async def _models(request: Request, state: _State) -> Response:
    failure: Exception | None = None
    for engine in state.router.candidates(None):
        try:
            upstream = await engine.client.get("/v1/models")
            return Response(upstream.content, status_code=upstream.status_code, media_type="application/json")
        except httpx.HTTPError as exc:
            failure = exc
    raise engine_unreachable(failure or httpx.ConnectError("no engine"))


async def _engine_health(engine: Engine) -> list[str] | None:
    """The engine's model names when it is up and has one loaded, else None."""
    try:
        health = await engine.client.get("/health", timeout=5.0)
        models = await engine.client.get("/v1/models", timeout=5.0)
        if health.status_code == 200 and models.status_code == 200:
            return [m.get("id") for m in models.json().get("data", [])] or None
    except (httpx.HTTPError, ValueError):
        pass
    return None


async def _health(request: Request) -> Response:
    state = _state(request)
    found = await asyncio.gather(*(_engine_health(e) for e in state.router.engines))
    engines = [{"url": e.url, "up": names is not None, "in_flight": e.in_flight} for e, names in
               zip(state.router.engines, found)]
    names = sorted({n for names in found if names for n in names})
    if names:
        return JSONResponse({"status": "ok", "engine": "up", "models": names, "engines": engines})
    return JSONResponse({"status": "unavailable", "engine": "down", "models": [], "engines": engines},
                        status_code=503, headers={"Retry-After": "5"})


async def _metrics(request: Request) -> Response:
    return Response(generate_latest(_state(request).metrics.registry), media_type=CONTENT_TYPE_LATEST)


def _resolve(state: _State, url: object, owner: str) -> ResolvedVideo:
    return resolve_video_url(
        url, media_dir=state.config.media_dir, max_bytes=state.config.max_video_bytes,
        files=state.files, owner=owner,
    )


def _is_remote(url: object) -> bool:
    return isinstance(url, str) and url.lower().startswith(("http://", "https://"))


async def _resolve_any(state: _State, url: object, owner: str) -> ResolvedVideo:
    if _is_remote(url):
        limited = replace(state.config.fetch, max_bytes=min(state.config.fetch.max_bytes, state.config.max_video_bytes))
        data = await fetch_video(url, limited)
        return ResolvedVideo(data, Path(urlsplit(url).path).name or "remote")
    return _resolve(state, url, owner)


async def _inline_for_engine(state: _State, part: dict[str, Any], owner: str) -> None:
    """Without temporal modeling the engine reads the video itself. It cannot
    see our uploads, and it must not fetch URLs on its own (it has none of
    fetch.py's checks), so both reach it as data: URLs."""
    url = _part_url(part)
    if not (isinstance(url, str) and (url.startswith("file-") or _is_remote(url))):
        return
    resolved = await _resolve_any(state, url, owner)
    data = resolved.source if isinstance(resolved.source, bytes) else await asyncio.to_thread(resolved.source.read_bytes)
    part["video_url"] = {"url": "data:video/mp4;base64," + base64.b64encode(data).decode()}


def _file_store(state: _State) -> FileStore:
    if state.files is None:
        raise APIError(404, "this server does not accept uploads (no upload directory)", code="uploads_disabled")
    return state.files


def _with_files(handler):
    """A /v1/files handler, given this app's file store."""

    async def endpoint(request: Request, state: _State) -> Response:
        return await handler(request, _file_store(state))

    return endpoint
