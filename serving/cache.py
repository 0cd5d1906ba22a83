"""Caches that let a second question about a video skip its decode.

- `FrameCache`: sampled videos (their JPEG frames and times) by content hash
  and sampling policy, least recently used first out, bounded in bytes.
- `DigestMemo`: a file's SHA-256 by (path, size, mtime), so asking again
  about the same file does not read it again just to name it.

The engine has caches of its own keyed by the request's `uuid` (content hash
+ policy): its multimodal processor cache and prefix KV cache. Together, a
repeated question costs neither a decode here nor a vision encode there.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

from framestamp.serving.video import SampledVideo, content_hash


def sampled_bytes(sampled: SampledVideo) -> int:
    return sum(len(frame.jpeg) for frame in sampled.frames) + 64 * len(sampled.frames)


class FrameCache:
    """LRU of SampledVideo by key, holding at most `max_bytes` of frames. Thread-safe."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[str, tuple[SampledVideo, int]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> SampledVideo | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item[0]

    def put(self, key: str, sampled: SampledVideo) -> None:
        size = sampled_bytes(sampled)
        if size > self.max_bytes:
            return  # bigger than the whole cache: keeping it would evict everything
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.bytes -= old[1]
            self._items[key] = (sampled, size)
            self.bytes += size
            while self.bytes > self.max_bytes:
                _, (_, evicted) = self._items.popitem(last=False)
                self.bytes -= evicted


class DigestMemo:
    """SHA-256 of files, remembered while their size and mtime stay the same."""

    def __init__(self, max_entries: int = 4096) -> None:
        self.max_entries = max_entries
        self._digests: OrderedDict[tuple[str, int, int], str] = OrderedDict()
        self._lock = threading.Lock()

    def digest(self, source: Path | bytes) -> str:
        if isinstance(source, bytes | bytearray):
            return content_hash(source)
        stat = os.stat(source)
        key = (str(source), stat.st_size, stat.st_mtime_ns)
        with self._lock:
            known = self._digests.get(key)
            if known is not None:
                self._digests.move_to_end(key)
                return known
        digest = content_hash(source)
        with self._lock:
            self._digests[key] = digest
            while len(self._digests) > self.max_entries:
                self._digests.popitem(last=False)
        return digest
