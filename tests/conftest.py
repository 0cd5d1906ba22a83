"""Shared fixtures: generated clips, the test checkpoint, and the real engine."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

from framestamp.benchmarks.clips import ClipSpec, write_clip
from framestamp.serving.threaded import ServerThread, free_port  # noqa: F401 - tests import them from here

ARTIFACTS = Path(os.environ.get("FRAMESTAMP_TEST_ARTIFACTS", Path(__file__).parents[1] / "artifacts"))


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def cfr_clip(clip_dir):
    return write_clip(clip_dir / "cfr.mp4", ClipSpec(duration=60.0, fps=30.0, gop=60, scene_changes=(10.0, 31.5)))


@pytest.fixture(scope="session")
def vfr_clip(clip_dir):
    # Like the clip in FACTS.md: ~20 s of variable frame rate, where OpenCV's
    # frame count and fps put the last timestamp seconds early.
    return write_clip(clip_dir / "vfr.mp4", ClipSpec(duration=19.8, fps=30.0, vfr=True, gop=45, seed=3))


@pytest.fixture(scope="session")
def two_speed_clip(clip_dir):
    # 30 fps for 10 s, then 5 fps: the shape of clip on which vLLM's default
    # (OpenCV) path was seen to put timestamps about 6 s early.
    return write_clip(clip_dir / "two_speed.mp4", ClipSpec(duration=19.8, fps=30.0, slowdown_at=10.0, gop=45))


@pytest.fixture(scope="session")
def hour_clip(clip_dir):
    return write_clip(clip_dir / "hour.mp4", ClipSpec(duration=3600.0, fps=2.0, width=64, height=64, gop=120))


@pytest.fixture(scope="session")
def test_model(tmp_path_factory) -> Path:
    from framestamp.serving.test_model import make_test_model

    return make_test_model(tmp_path_factory.mktemp("model") / "tiny-qwen3-vl")


@contextlib.contextmanager
def running_engine(test_model: Path, media_dir: Path, log_name: str):
    """A real vLLM engine (CPU build) on the tiny checkpoint, on a free port."""
    from framestamp.serving.engine import EngineConfig, EngineProcess

    config = EngineConfig(
        model=str(test_model),
        served_model_name="tiny-qwen3-vl",
        port=free_port(),
        max_model_len=4096,
        allowed_local_media_path=str(media_dir),
        cpu_kvcache_gib=1,
        max_images_per_prompt=4,
    )
    process = EngineProcess(config, log_path=ARTIFACTS / log_name).start()
    try:
        process.wait_ready(timeout=600)
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="session")
def engine(test_model, clip_dir):
    """The engine most tests share, started once per session."""
    with running_engine(test_model, clip_dir, "engine.log") as process:
        yield process


@pytest.fixture(scope="session")
def engine_client(engine):
    from openai import OpenAI

    with OpenAI(base_url=f"{engine.config.url}/v1", api_key="unused", max_retries=0) as client:
        yield client


@pytest.fixture(scope="session")
def tokenizer(test_model):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(test_model)


ADAPTER_KEY = "test-key"
OTHER_KEY = "other-key"


@pytest.fixture(scope="session")
def adapter(engine, clip_dir, tmp_path_factory):
    from framestamp.serving.adapter import AdapterConfig, create_app

    config = AdapterConfig(
        engine_url=engine.config.url,
        media_dir=clip_dir,
        upload_dir=tmp_path_factory.mktemp("uploads"),
        api_keys=frozenset({ADAPTER_KEY, OTHER_KEY}),
        max_video_bytes=8 * 2**20,
        max_visual_tokens=2048,
        default_max_frames=48,
    )
    with ServerThread(create_app(config)) as server:
        yield server


@pytest.fixture(scope="session")
def client(adapter):
    from openai import OpenAI

    with OpenAI(base_url=f"{adapter.url}/v1", api_key=ADAPTER_KEY, max_retries=0) as c:
        yield c
