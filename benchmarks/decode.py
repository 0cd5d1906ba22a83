"""Decode and sampling: framestamp's sampler against what users would use instead.

    framestamp bench decode [--matrix default|readme|full] [--repeat 2] [--out benchmarks/results]
    (same as: python -m framestamp.benchmarks.decode ...)

For generated H.264 clips with busy content (FFmpeg's testsrc2) of known
frame times, samples at 2 fps and 0.5 fps (capped at --max-frames, the
engine's frame budget, for every sampler alike) with:

- framestamp: `FrameSampler` with one worker per core (seeks over keyframe
  gaps, skips non-reference frames, decodes long videos in parallel parts);
- framestamp-1proc: the same sampler in one process;
- pyav-loop: the floor to beat, a plain PyAV loop that decodes every frame
  and keeps the first one at or after each target (same scaling and JPEG
  encoding as framestamp, so only the decode strategy differs);
- vllm-opencv: the engine's default loader
  (`VIDEO_LOADER_REGISTRY.load("opencv").load_bytes(data, num_frames, fps)`);
- qwen-vl-utils-decord: `qwen_vl_utils.fetch_video` with the decord backend
  (its torchvision backend does not work with torchvision 0.28, and
  torchcodec is not installed here).

Each measurement runs in a fresh process: wall time of the sampling call,
CPU time (the process and its workers), and peak resident memory of the
process tree (polled every 5 ms; the figure over the process's size after
its imports is reported too, since importing vLLM alone costs hundreds of
MB). Frame times are compared with the true PTS the clip was written with.
Clips are cached in --clips-dir. Writes decode.json and decode.png.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from framestamp.benchmarks.clips import ClipSpec, frame_times_for, write_pattern_clip
from framestamp.benchmarks.report import pyplot, spread, write_report

SAMPLERS = ("framestamp", "framestamp-1proc", "pyav-loop", "vllm-opencv", "qwen-vl-utils-decord")
SIZES = {"240p": (426, 240), "480p": (854, 480), "720p": (1280, 720)}


@dataclass(frozen=True)
class Case:
    minutes: float
    size: str
    vfr: bool
    fps: tuple[float, ...]
    repeat: int | None = None  # None: --repeat
    source_fps: float = 30.0

    @property
    def clip_name(self) -> str:
        rate = "" if self.source_fps == 30.0 else f"-{self.source_fps:g}fps"
        return f"{self.minutes:g}min-{self.size}{rate}-{'vfr' if self.vfr else 'cfr'}"

    @property
    def spec(self) -> ClipSpec:
        width, height = SIZES[self.size]
        return ClipSpec(
            duration=self.minutes * 60, fps=self.source_fps, width=width, height=height,
            vfr=self.vfr, gop=250, crf=32, seed=7,
        )


# The default run stays under ten minutes on 2 cores, clips included: short
# clips repeated, a 10-minute clip once, and an hour-long one (low resolution
# and rate) once for memory at length.
DEFAULT_CASES = (
    Case(1, "480p", False, (2.0, 0.5)),
    Case(1, "480p", True, (2.0,)),
    Case(10, "480p", False, (2.0,), repeat=1),
    Case(60, "240p", False, (0.5,), repeat=1, source_fps=15.0),
)
# The run README quotes (about 15 minutes with --repeat 3).
README_CASES = (
    Case(1, "480p", False, (2.0, 0.5)),
    Case(1, "480p", True, (2.0, 0.5)),
    Case(10, "480p", False, (2.0, 0.5), repeat=1),
    Case(60, "240p", False, (0.5,), repeat=1),
)
FULL_CASES = tuple(
    Case(minutes, size, vfr, (2.0, 0.5), repeat=1 if minutes > 1 else None)
    for minutes in (1, 10, 60)
    for size in ("480p", "720p")
    for vfr in (False, True)
)
SMOKE_CASES = (Case(0.1, "240p", True, (2.0,), repeat=1),)


def clip_path(case: Case, clips_dir: Path) -> Path:
    """The cached clip for `case`, written on first use (its spec sits beside it)."""
    path = clips_dir / f"{case.clip_name}.mp4"
    spec_file = path.with_suffix(".json")
    wanted = json.dumps(asdict(case.spec), sort_keys=True)
    if path.exists() and spec_file.exists() and spec_file.read_text() == wanted:
        return path
    clips_dir.mkdir(parents=True, exist_ok=True)
    write_pattern_clip(path, case.spec)
    spec_file.write_text(wanted)
    return path


# --- one measurement, in its own process -------------------------------------


def _tree_rss(process) -> int:
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        try:
            total += child.memory_info().rss
        except Exception:  # the child exited between listing and reading
            pass
    return total


class _PeakMemory:
    """Polls the resident memory of this process and its children."""

    def __init__(self, interval: float = 0.005) -> None:
        import psutil

        self._process = psutil.Process()
        self._interval = interval
        self._stop = threading.Event()
        self.baseline = _tree_rss(self._process)
        self.peak = self.baseline
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _tree_rss(self._process))
            self._stop.wait(self._interval)

    def __enter__(self) -> _PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _tree_rss(self._process))


def _framestamp(path: str, fps: float, max_frames: int, workers: int) -> tuple[list[float], str]:
    from framestamp.serving.sampling import SamplingPolicy
    from framestamp.serving.video import FrameSampler

    policy = SamplingPolicy(fps=fps, max_frames=max_frames)
    with FrameSampler(workers) as sampler:
        sampled = sampler.sample(path, policy)
    return list(sampled.times), "pts"


def _pyav_loop(path: str, fps: float, max_frames: int) -> tuple[list[float], str]:
    import io

    import av
    from PIL import Image

    from framestamp.serving.sampling import SamplingPolicy, plan_sampling
    from framestamp.serving.video import probe_video

    info = probe_video(path)
    plan = plan_sampling(
        SamplingPolicy(fps=fps, max_frames=max_frames), duration=info.duration, width=info.width, height=info.height
    )
    times, jpegs, i = [], [], 0
    with av.open(path) as container:
        stream = container.streams.video[0]
        start = stream.start_time or 0
        for frame in container.decode(stream):
            t = float((frame.pts - start) * stream.time_base)
            if i >= len(plan.targets):
                break
            if t < plan.targets[i]:
                continue
            rgb = frame.to_ndarray(width=plan.width, height=plan.height, format="rgb24")
            buffer = io.BytesIO()
            Image.fromarray(rgb).save(buffer, format="JPEG", quality=90)
            jpegs.append(buffer.getvalue())
            times.append(t)
            while i < len(plan.targets) and plan.targets[i] <= t:
                i += 1
    return times, "pts"


def _vllm_opencv(path: str, fps: float, max_frames: int) -> tuple[list[int], str]:
    from vllm.multimodal.video import VIDEO_LOADER_REGISTRY

    data = Path(path).read_bytes()  # the engine reads the file, then decodes bytes
    _, meta = VIDEO_LOADER_REGISTRY.load("opencv").load_bytes(data, num_frames=max_frames, fps=fps)
    # What vLLM injects as each frame's time: index / average fps.
    return [i / meta["fps"] for i in meta["frames_indices"]], json.dumps(list(meta["frames_indices"]))


def _qwen_vl_utils(path: str, fps: float, max_frames: int) -> tuple[list[float], str]:
    os.environ["FORCE_QWENVL_VIDEO_READER"] = "decord"
    from qwen_vl_utils import fetch_video

    _, meta = fetch_video({"video": path, "fps": fps, "max_frames": max_frames}, return_video_metadata=True)
    return [i / meta["fps"] for i in meta["frames_indices"]], json.dumps(list(meta["frames_indices"]))


def run_one(sampler: str, path: str, fps: float, max_frames: int) -> dict[str, object]:
    """Measure one sampler once, in this process. Imports happen before timing."""
    import psutil  # noqa: F401  (imported before the baseline is read)

    if sampler == "vllm-opencv":
        import vllm.multimodal.video  # noqa: F401
    elif sampler == "qwen-vl-utils-decord":
        os.environ["FORCE_QWENVL_VIDEO_READER"] = "decord"
        import qwen_vl_utils  # noqa: F401
    else:
        import framestamp.serving.video  # noqa: F401
    run = {
        "framestamp": lambda: _framestamp(path, fps, max_frames, os.cpu_count() or 1),
        "framestamp-1proc": lambda: _framestamp(path, fps, max_frames, 1),
        "pyav-loop": lambda: _pyav_loop(path, fps, max_frames),
        "vllm-opencv": lambda: _vllm_opencv(path, fps, max_frames),
        "qwen-vl-utils-decord": lambda: _qwen_vl_utils(path, fps, max_frames),
    }[sampler]
    cpu_before = os.times()
    with _PeakMemory() as memory:
        began = time.perf_counter()
        times, indices = run()
        wall = time.perf_counter() - began
    cpu_after = os.times()
    cpu = sum(cpu_after[:4]) - sum(cpu_before[:4])
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_mb": memory.peak / 2**20,
        "rss_over_imports_mb": (memory.peak - memory.baseline) / 2**20,
        "times": times,
        "indices": indices,
    }


def _measure_in_child(sampler: str, path: Path, fps: float, max_frames: int) -> dict[str, object]:
    command = [sys.executable, "-m", "framestamp.benchmarks.decode", "--one", sampler, str(path), str(fps), str(max_frames)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["exited with code %d" % done.returncode])[-1]
        return {"error": reason[:300]}
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- errors against the truth ------------------------------------------------


def timestamp_errors(result: dict[str, object], truth: tuple[float, ...] | list[float]) -> dict[str, float]:
    """How far each claimed time is from the true PTS of the frame delivered."""
    claimed = result["times"]
    if result["indices"] == "pts":
        # A PTS-based sampler delivers the frame whose PTS it claims.
        actual = [truth[min(bisect.bisect_left(truth, t - 1e-6), len(truth) - 1)] for t in claimed]
    else:
        actual = [truth[min(i, len(truth) - 1)] for i in json.loads(result["indices"])]
    diffs = [abs(a - b) for a, b in zip(claimed, actual)] or [0.0]
    return {"frames": len(claimed), "max_error_s": max(diffs), "mean_error_s": sum(diffs) / len(diffs)}


# --- the run -------------------------------------------------------------------


def run_benchmark(
    cases: tuple[Case, ...], samplers: tuple[str, ...], *, repeat: int, max_frames: int, clips_dir: Path
) -> list[dict[str, object]]:
    from tqdm import tqdm

    jobs = [(case, fps) for case in cases for fps in case.fps]
    total = sum(len(samplers) * (case.repeat or repeat) for case, _ in jobs)
    rows: list[dict[str, object]] = []
    with tqdm(total=total, desc="decode", unit="run") as progress:
        for case, fps in jobs:
            progress.set_postfix_str(f"writing {case.clip_name}")
            path = clip_path(case, clips_dir)
            truth = frame_times_for(case.spec)
            for sampler in samplers:
                progress.set_postfix_str(f"{case.clip_name} @ {fps:g} fps: {sampler}")
                runs = []
                for _ in range(case.repeat or repeat):
                    runs.append(_measure_in_child(sampler, path, fps, max_frames))
                    progress.update(1)
                row: dict[str, object] = {
                    "clip": case.clip_name, "clip_mb": round(path.stat().st_size / 2**20, 1),
                    "true_frames": len(truth), "target_fps": fps, "sampler": sampler,
                }
                failed = [r for r in runs if "error" in r]
                if failed:
                    row["error"] = failed[0]["error"]
                else:
                    for key in ("wall_s", "cpu_s", "peak_rss_mb", "rss_over_imports_mb"):
                        row[key] = spread([r[key] for r in runs])
                    row |= timestamp_errors(runs[0], truth)
                rows.append(row)
    return rows


def print_table(rows: list[dict[str, object]]) -> None:
    print(f"{'clip':18} {'fps':>4} {'sampler':21} {'frames':>6} {'wall s':>7} {'x opencv':>8} "
          f"{'CPU s':>7} {'peak MB':>8} {'+MB':>7} {'max err s':>9}")
    for row in rows:
        head = f"{row['clip']:18} {row['target_fps']:4g} {row['sampler']:21}"
        if "error" in row:
            print(f"{head} failed: {row['error'][:60]}")
            continue
        baseline = next(
            (r for r in rows if r["clip"] == row["clip"] and r["target_fps"] == row["target_fps"]
             and r["sampler"] == "vllm-opencv" and "error" not in r), None,
        )
        speedup = baseline["wall_s"]["median"] / row["wall_s"]["median"] if baseline else float("nan")
        print(f"{head} {row['frames']:6d} {row['wall_s']['median']:7.2f} {speedup:8.1f} "
              f"{row['cpu_s']['median']:7.2f} {row['peak_rss_mb']['median']:8.0f} "
              f"{row['rss_over_imports_mb']['median']:7.0f} {row['max_error_s']:9.3f}")


def plot(rows: list[dict[str, object]], path: Path) -> None:
    plt = pyplot()
    groups = list(dict.fromkeys((r["clip"], r["target_fps"]) for r in rows))
    samplers = list(dict.fromkeys(r["sampler"] for r in rows))
    fig, (ax_time, ax_mem) = plt.subplots(1, 2, figsize=(13, 4.5))
    width = 0.8 / len(samplers)
    for k, sampler in enumerate(samplers):
        walls, mems = [], []
        for clip, fps in groups:
            row = next((r for r in rows if (r["clip"], r["target_fps"], r["sampler"]) == (clip, fps, sampler)), None)
            ok = row is not None and "error" not in row
            walls.append(row["wall_s"]["median"] if ok else 0)
            mems.append(row["rss_over_imports_mb"]["median"] if ok else 0)
        xs = [i + k * width for i in range(len(groups))]
        ax_time.bar(xs, walls, width, label=sampler)
        ax_mem.bar(xs, mems, width, label=sampler)
    labels = [f"{clip}\n{fps:g} fps" for clip, fps in groups]
    for ax, title in ((ax_time, "wall time (s, median)"), (ax_mem, "peak memory over imports (MB)")):
        ax.set_xticks([i + width * (len(samplers) - 1) / 2 for i in range(len(groups))], labels, fontsize=7)
        ax.set_title(title)
        ax.set_yscale("log")
    ax_time.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="benchmarks/results", help="folder for decode.json and decode.png")
    parser.add_argument("--clips-dir", default="media/bench-clips", help="where generated clips are cached")
    parser.add_argument("--matrix", choices=["default", "readme", "full", "smoke"], default="default",
                        help="default: under 10 minutes; readme: the run README quotes; full: 1/10/60 min x "
                             "480p/720p x CFR/VFR (hours); smoke: one 6-second clip, one run (CI)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per measurement on short clips")
    parser.add_argument("--max-frames", type=int, default=768, help="frame cap for every sampler")
    parser.add_argument("--samplers", default=",".join(SAMPLERS), help="comma-separated subset of " + ", ".join(SAMPLERS))
    parser.add_argument("--one", nargs=4, metavar=("SAMPLER", "PATH", "FPS", "MAX_FRAMES"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        sampler, path, fps, max_frames = args.one
        print(json.dumps(run_one(sampler, path, float(fps), int(max_frames))))
        return 0
    samplers = tuple(s for s in args.samplers.split(",") if s)
    unknown = set(samplers) - set(SAMPLERS)
    if unknown:
        parser.error(f"unknown samplers: {', '.join(sorted(unknown))}")
    cases = {"default": DEFAULT_CASES, "readme": README_CASES, "full": FULL_CASES, "smoke": SMOKE_CASES}[args.matrix]
    rows = run_benchmark(cases, samplers, repeat=args.repeat, max_frames=args.max_frames, clips_dir=Path(args.clips_dir))
    out = Path(args.out)
    write_report(out, "decode", {"max_frames": args.max_frames, "results": rows})
    plot(rows, out / "decode.png")
    print_table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
