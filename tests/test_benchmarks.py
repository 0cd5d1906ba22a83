"""Benchmarks keep working: each runs once here at its default (small) size."""

import json


def test_timestamp_benchmark_runs_and_framestamp_is_exact(tmp_path):
    from framestamp.benchmarks.timestamps import main

    assert main(["--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "timestamps.json").read_text())
    assert (tmp_path / "timestamps.png").stat().st_size > 0
    for clip in report["clips"].values():
        assert clip["samplers"]["framestamp-2fps"]["max_error_s"] < 1e-3
    assert report["clips"]["vfr-30-then-5fps"]["samplers"]["vllm-opencv-32"]["max_error_s"] > 2.0
