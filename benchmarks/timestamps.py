"""Timestamp accuracy: the time each sampler claims for a frame versus its true PTS.

    python -m framestamp.benchmarks.timestamps [--out benchmarks/results]

For generated clips (constant frame rate, random variable frame rate, and a
clip whose rate drops from 30 to 5 fps half-way, like a screen recording),
compares the frame times that reach the model:
- vLLM's default loader (OpenCV, as the engine uses it for a file or URL):
  frames_indices / fps from its metadata, which is what vLLM injects;
- framestamp's sampler: each frame's own PTS.
The truth is the PTS the clip was written with. Writes JSON and a PNG.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
from pathlib import Path

from framestamp.benchmarks.clips import ClipSpec, write_clip
from framestamp.serving.sampling import SamplingPolicy
from framestamp.serving.video import sample_frames

CLIPS = {
    "cfr-30fps": ClipSpec(duration=19.8, fps=30.0, gop=45),
    "vfr-random": ClipSpec(duration=19.8, fps=30.0, vfr=True, gop=45, seed=3),
    "vfr-30-then-5fps": ClipSpec(duration=19.8, fps=30.0, slowdown_at=10.0, gop=45),
}


def _errors(claimed: list[float], truth: list[float]) -> dict[str, float]:
    diffs = [abs(a - b) for a, b in zip(claimed, truth)]
    return {"frames": len(diffs), "max_error_s": max(diffs), "mean_error_s": sum(diffs) / len(diffs)}


def measure(clip) -> dict[str, dict[str, float]]:
    from vllm.multimodal.video import VIDEO_LOADER_REGISTRY

    results = {}
    data = clip.path.read_bytes()
    for label, kwargs in (("vllm-opencv-32", {"num_frames": 32}), ("vllm-opencv-2fps", {"num_frames": -1, "fps": 2})):
        _, meta = VIDEO_LOADER_REGISTRY.load("opencv").load_bytes(data, **kwargs)
        indices = meta["frames_indices"]
        claimed = [i / meta["fps"] for i in indices]
        truth = [clip.frame_times[i] for i in indices]
        results[label] = _errors(claimed, truth) | {"frame_count_reported": meta["total_num_frames"]}
    sampled = sample_frames(clip.path, SamplingPolicy(fps=2))
    truth = [min(clip.frame_times, key=lambda x: abs(x - t)) for t in sampled.times]
    results["framestamp-2fps"] = _errors(sampled.times, truth) | {"frame_count_reported": sampled.info.frame_count}
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="benchmarks/results", help="folder for timestamps.json and timestamps.png")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = {"machine": f"{platform.machine()}, {platform.python_version()}", "clips": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, spec in CLIPS.items():
            clip = write_clip(Path(tmp) / f"{name}.mp4", spec)
            report["clips"][name] = {"true_frame_count": len(clip.frame_times), "samplers": measure(clip)}
    (out / "timestamps.json").write_text(json.dumps(report, indent=2))
    print(f"{'clip':18} {'sampler':18} {'frames':>6} {'reported':>8} {'max err s':>10} {'mean err s':>10}")
    for name, clip in report["clips"].items():
        for sampler, r in clip["samplers"].items():
            print(f"{name:18} {sampler:18} {r['frames']:6d} {r['frame_count_reported']:8d} "
                  f"{r['max_error_s']:10.3f} {r['mean_error_s']:10.3f}  (true frames {clip['true_frame_count']})")
    _plot(report, out / "timestamps.png")
    return 0


def _plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    clips = list(report["clips"])
    samplers = list(next(iter(report["clips"].values()))["samplers"])
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(samplers)
    for k, sampler in enumerate(samplers):
        values = [report["clips"][c]["samplers"][sampler]["max_error_s"] for c in clips]
        ax.bar([i + k * width for i in range(len(clips))], values, width, label=sampler)
    ax.set_xticks([i + width * (len(samplers) - 1) / 2 for i in range(len(clips))], clips)
    ax.set_ylabel("max timestamp error (s)")
    ax.set_title("Frame time reaching the model vs true PTS")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    raise SystemExit(main())
