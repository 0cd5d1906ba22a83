"""Benchmarks keep working: each runs once here at its default (small) size."""

import json

import pytest


def test_timestamp_benchmark_runs_and_framestamp_is_exact(tmp_path):
    from framestamp.benchmarks.timestamps import main

    assert main(["--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "timestamps.json").read_text())
    assert (tmp_path / "timestamps.png").stat().st_size > 0
    for clip in report["clips"].values():
        assert clip["samplers"]["framestamp-2fps"]["max_error_s"] < 1e-3
    assert report["clips"]["vfr-30-then-5fps"]["samplers"]["vllm-opencv-32"]["max_error_s"] > 2.0


def test_decode_benchmark_smoke(tmp_path):
    from framestamp.benchmarks.decode import main

    assert main(["--matrix", "smoke", "--out", str(tmp_path), "--clips-dir", str(tmp_path / "clips")]) == 0
    report = json.loads((tmp_path / "decode.json").read_text())
    rows = {row["sampler"]: row for row in report["results"]}
    assert rows["framestamp"]["max_error_s"] < 1e-3
    assert rows["vllm-opencv"]["max_error_s"] > 0.05  # a VFR clip: index / fps drifts
    assert (tmp_path / "decode.png").stat().st_size > 0


def test_parse_benchmark_smoke(tmp_path):
    from framestamp.benchmarks.parse import main

    assert main(["--out", str(tmp_path), "--repeat", "1"]) == 0
    results = json.loads((tmp_path / "parse.json").read_text())["results"]
    assert results["framestamp parse_events"]["accuracy"] == 1.0


@pytest.mark.engine
def test_load_benchmark_smoke(engine, adapter, cfr_clip, tmp_path):
    from framestamp.benchmarks.load import main
    from tests.conftest import ADAPTER_KEY

    assert main(["--engine-url", engine.config.url, "--adapter-url", adapter.url, "--api-key", ADAPTER_KEY,
                 "--video", str(cfr_clip.path), "--concurrency", "1", "--requests", "2", "--max-tokens", "4",
                 "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "load.json").read_text())
    for rows in report["results"].values():
        assert rows[0]["ok"] == 2 and rows[0]["completion_tokens_total"] == 8  # counted from usage
    assert report["adapter_over_engine"][0]["e2e_p50_ratio"] > 0
    assert not list(cfr_clip.path.parent.glob("cfr-*.mp4"))  # the per-request copies are cleaned up


@pytest.mark.engine
def test_structured_benchmark_smoke(adapter, vfr_clip, tmp_path):
    from framestamp.benchmarks.structured import main
    from tests.conftest import ADAPTER_KEY

    assert main(["--adapter-url", adapter.url, "--api-key", ADAPTER_KEY, "--model", "tiny-qwen3-vl",
                 "--video", str(vfr_clip.path), "--requests", "2", "--max-tokens", "40", "--out", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "structured.json").read_text())["results"]
    assert set(results) == {"text", "json"}
    assert all(0 <= r["well_formed"] <= 1 for r in results.values())
