"""The frame cache and the digest memo (no engine)."""

import os

from framestamp.serving.cache import DigestMemo, FrameCache, sampled_bytes
from framestamp.serving.video import SampledFrame, SampledVideo, VideoInfo, content_hash

INFO = VideoInfo(duration=10, frame_count=10, fps=1, width=32, height=32, coded_width=32, coded_height=32,
                 rotation=0, variable_frame_rate=False, keyframe_interval=1, codec="h264")


def video(n: int, size: int = 100) -> SampledVideo:
    frames = tuple(SampledFrame(time=float(i), jpeg=b"x" * size) for i in range(n))
    return SampledVideo(INFO, frames, 32, 32, 0.0, 10.0, (), 0.1)


def test_lru_evicts_oldest_and_stays_under_its_bound():
    one = video(4)
    cache = FrameCache(max_bytes=sampled_bytes(one) * 2)
    cache.put("a", one)
    cache.put("b", video(4))
    assert cache.get("a") is one  # a is now the most recent
    cache.put("c", video(4))
    assert cache.get("b") is None and cache.get("a") is one and cache.get("c") is not None
    assert cache.bytes <= cache.max_bytes and len(cache) == 2
    assert (cache.hits, cache.misses) == (3, 1)


def test_too_big_for_the_cache_is_not_kept():
    cache = FrameCache(max_bytes=100)
    cache.put("big", video(10))
    assert cache.get("big") is None and cache.bytes == 0


def test_replacing_a_key_keeps_the_byte_count_right():
    cache = FrameCache(max_bytes=10_000)
    cache.put("a", video(2))
    cache.put("a", video(3))
    assert cache.bytes == sampled_bytes(video(3))


def test_digest_memo_rehashes_only_when_the_file_changes(tmp_path):
    path = tmp_path / "v.mp4"
    path.write_bytes(b"one")
    memo = DigestMemo()
    first = memo.digest(path)
    assert first == content_hash(path) == memo.digest(path)
    path.write_bytes(b"two!")
    os.utime(path, ns=(1, 1))
    assert memo.digest(path) == content_hash(path) != first
    assert memo.digest(b"bytes") == content_hash(b"bytes")
