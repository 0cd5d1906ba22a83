"""Several engines behind one adapter: the same video to the same engine.

Questions about one video go to one engine (consistent hashing on the
video's content hash), so that engine's processor cache and prefix KV cache
for the video are reused. Requests without a video, or whose engine is
down, go to the least-loaded healthy engine. A background loop checks each
engine's /health every `interval` seconds: an engine that fails a check or
refuses a connection is ejected at once and re-admitted when a check
passes. Ejection moves only that engine's share of the ring; the others
keep theirs.

Only connection failures (nothing reached the engine) are retried on
another engine; a request the engine accepted is never sent twice.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import httpx

log = logging.getLogger("framestamp.routing")
VIRTUAL_NODES = 64


@dataclass
class Engine:
    url: str
    client: httpx.AsyncClient
    healthy: bool = True
    in_flight: int = 0
    requests: int = 0


def _point(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


@dataclass
class EngineRouter:
    engines: list[Engine]
    interval: float = 5.0
    _ring: list[tuple[int, int]] = field(default_factory=list)
    _task: asyncio.Task | None = None

    @classmethod
    def create(
        cls, urls: Sequence[str], *, api_key: str | None, timeout: float, interval: float = 5.0
    ) -> EngineRouter:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        engines = [
            Engine(url.rstrip("/"), httpx.AsyncClient(
                base_url=url.rstrip("/"), headers=headers, timeout=httpx.Timeout(timeout, connect=5.0),
                limits=httpx.Limits(max_connections=256, max_keepalive_connections=64),
            ))
            for url in urls
        ]
        router = cls(engines, interval)
        # Ring points hash the engine's URL, so each engine keeps its arc when others come and go.
        router._ring = sorted((_point(f"{e.url}#{v}"), i) for i, e in enumerate(engines) for v in range(VIRTUAL_NODES))
        return router

    def start(self) -> None:
        if len(self.engines) > 1 and self._task is None:
            self._task = asyncio.create_task(self._watch())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for engine in self.engines:
            await engine.client.aclose()

    def candidates(self, key: str | None) -> list[Engine]:
        """Engines to try, in order: the key's owner on the ring first, then the rest by load."""
        healthy = [e for e in self.engines if e.healthy] or list(self.engines)
        by_load = sorted(healthy, key=lambda e: e.in_flight)
        if key is None or len(self.engines) == 1:
            return by_load
        start = bisect.bisect(self._ring, (_point(key), len(self.engines)))
        for offset in range(len(self._ring)):
            engine = self.engines[self._ring[(start + offset) % len(self._ring)][1]]
            if engine in healthy:
                return [engine] + [e for e in by_load if e is not engine]
        return by_load

    def eject(self, engine: Engine, reason: str) -> None:
        if engine.healthy and len(self.engines) > 1:
            log.warning("engine %s ejected: %s", engine.url, reason)
        engine.healthy = False

    @contextlib.asynccontextmanager
    async def using(self, engine: Engine) -> AsyncIterator[Engine]:
        engine.in_flight += 1
        engine.requests += 1
        try:
            yield engine
        finally:
            engine.in_flight -= 1

    async def check(self, engine: Engine) -> bool:
        try:
            ok = (await engine.client.get("/health", timeout=5.0)).status_code == 200
        except httpx.HTTPError:
            ok = False
        if ok and not engine.healthy:
            log.warning("engine %s re-admitted", engine.url)
        if not ok:
            self.eject(engine, "health check failed")
        engine.healthy = ok
        return ok

    async def _watch(self) -> None:
        while True:
            await asyncio.gather(*(self.check(e) for e in self.engines))
            await asyncio.sleep(self.interval)


def is_connection_failure(exc: Exception) -> bool:
    """The request never reached the engine, so another engine may take it."""
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
