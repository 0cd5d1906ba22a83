"""Load: video questions against a running stack, directly to the engine and through the adapter.

    framestamp bench load                      # starts a test stack itself (tiny checkpoint, CPU)
    framestamp bench load --engine-url http://gpu:8100 --adapter-url http://gpu:8000 \\
        --model Qwen/Qwen3-VL-2B-Instruct --video /data/clip.mp4 --media-dir /data

The same streaming chat requests (one video, one question, `max_tokens`
answer tokens) go, in the same run, to the engine directly (the video as a
`file://` URL, so vLLM's own loader decodes it: what a user without
framestamp sends) and to the adapter (the same URL; framestamp samples at
true times and injects them). For each target and each concurrency level
(1, 2, 4, ... closed loop) and each request rate (open loop, Poisson
arrivals): throughput, time to first token, time per output token,
inter-token latency and end-to-end latency (p50/p90/p99), errors, and tokens
counted from `usage` (`stream_options.include_usage`). The adapter's
overhead is the ratio of its latencies to the engine's.

Works against any OpenAI-compatible server pair. Writes load.json and load.png.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import random
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from framestamp.benchmarks.report import pyplot, write_report


@dataclass
class Sample:
    ok: bool
    e2e: float = 0.0
    ttft: float | None = None
    itl: list[float] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str | None = None


@dataclass(frozen=True)
class Target:
    name: str
    url: str
    api_key: str | None
    temporal: bool  # send the `temporal` extension (the adapter) or not (the engine)


def request_body(model: str, video_url: str, question: str, max_tokens: int, temporal: bool, fps: float) -> dict:
    body = {
        "model": model,
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": max_tokens,
        # A fixed answer length makes engine and adapter runs comparable.
        "ignore_eos": True,
        "messages": [{"role": "user", "content": [
            {"type": "video_url", "video_url": {"url": video_url}},
            {"type": "text", "text": question},
        ]}],
    }
    if temporal:
        body["temporal"] = {"fps": fps}
    else:
        # vLLM's own loader at the same rate: the fair comparison.
        body["mm_processor_kwargs"] = {"fps": fps}
    return body


async def one_request(client: httpx.AsyncClient, target: Target, body: dict) -> Sample:
    headers = {"Authorization": f"Bearer {target.api_key}"} if target.api_key else {}
    began = time.perf_counter()
    last = None
    sample = Sample(ok=False)
    try:
        async with client.stream("POST", f"{target.url}/v1/chat/completions", json=body, headers=headers) as response:
            if response.status_code != 200:
                text = (await response.aread()).decode(errors="replace")
                return Sample(ok=False, e2e=time.perf_counter() - began, error=f"{response.status_code}: {text[:200]}")
            async for line in response.aiter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                chunk = json.loads(line[6:])
                now = time.perf_counter()
                if chunk.get("usage"):
                    sample.prompt_tokens = chunk["usage"].get("prompt_tokens", 0)
                    sample.completion_tokens = chunk["usage"].get("completion_tokens", 0)
                if any((c.get("delta") or {}).get("content") for c in chunk.get("choices") or []):
                    if sample.ttft is None:
                        sample.ttft = now - began
                    elif last is not None:
                        sample.itl.append(now - last)
                    last = now
    except (httpx.HTTPError, ValueError) as exc:
        return Sample(ok=False, e2e=time.perf_counter() - began, error=f"{type(exc).__name__}: {exc}"[:200])
    sample.e2e = time.perf_counter() - began
    sample.ok = sample.ttft is not None
    if not sample.ok:
        sample.error = "no tokens streamed"
    return sample


async def closed_loop(target: Target, bodies: list[dict], concurrency: int, requests: int) -> tuple[list[Sample], float]:
    """`concurrency` users, each sending the next request when its last one ends."""
    samples: list[Sample] = []
    remaining = iter(range(requests))
    async with httpx.AsyncClient(timeout=httpx.Timeout(600, connect=10), limits=httpx.Limits(max_connections=256)) as client:
        async def user() -> None:
            for i in remaining:
                samples.append(await one_request(client, target, bodies[i % len(bodies)]))

        began = time.perf_counter()
        await asyncio.gather(*(user() for _ in range(concurrency)))
        return samples, time.perf_counter() - began


async def open_loop(target: Target, bodies: list[dict], rate: float, requests: int, seed: int = 0) -> tuple[list[Sample], float]:
    """Requests arriving at `rate` per second (Poisson), whatever the server's state."""
    rng = random.Random(seed)
    async with httpx.AsyncClient(timeout=httpx.Timeout(600, connect=10), limits=httpx.Limits(max_connections=1024)) as client:
        tasks = []
        began = time.perf_counter()
        for i in range(requests):
            tasks.append(asyncio.create_task(one_request(client, target, bodies[i % len(bodies)])))
            await asyncio.sleep(rng.expovariate(rate))
        samples = await asyncio.gather(*tasks)
        return list(samples), time.perf_counter() - began


def percentiles(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]

    return {"p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "mean": statistics.fmean(ordered)}


def summarize(samples: list[Sample], wall: float) -> dict[str, object]:
    ok = [s for s in samples if s.ok]
    tpot = [(s.e2e - s.ttft) / (s.completion_tokens - 1) for s in ok if s.completion_tokens > 1]
    errors: dict[str, int] = {}
    for s in samples:
        if not s.ok:
            errors[s.error or "?"] = errors.get(s.error or "?", 0) + 1
    return {
        "requests": len(samples),
        "ok": len(ok),
        "errors": errors,
        "wall_s": wall,
        "requests_per_s": len(ok) / wall if wall else 0.0,
        "output_tokens_per_s": sum(s.completion_tokens for s in ok) / wall if wall else 0.0,
        "prompt_tokens_mean": statistics.fmean([s.prompt_tokens for s in ok]) if ok else 0,
        "completion_tokens_total": sum(s.completion_tokens for s in ok),
        "ttft_s": percentiles([s.ttft for s in ok]),
        "tpot_s": percentiles(tpot),
        "itl_s": percentiles([x for s in ok for x in s.itl]),
        "e2e_s": percentiles([s.e2e for s in ok]),
    }


@contextlib.contextmanager
def local_stack(video: Path):
    """The engine on a freshly written tiny checkpoint, and the adapter, on this machine."""
    from framestamp.serving.adapter import AdapterConfig, create_app
    from framestamp.serving.engine import EngineConfig, EngineProcess
    from framestamp.serving.test_model import make_test_model
    from framestamp.serving.threaded import ServerThread, free_port

    with tempfile.TemporaryDirectory() as tmp:
        model = make_test_model(Path(tmp) / "tiny-qwen3-vl")
        config = EngineConfig(model=str(model), served_model_name="tiny-qwen3-vl", port=free_port(),
                              max_model_len=4096, cpu_kvcache_gib=1, allowed_local_media_path=str(video.parent))
        engine = EngineProcess(config, log_path=Path(tmp) / "engine.log").start()
        try:
            engine.wait_ready(timeout=600)
            adapter = AdapterConfig(engine_url=config.url, media_dir=video.parent, max_visual_tokens=2048,
                                    default_max_frames=64)
            with ServerThread(create_app(adapter)) as server:
                yield config.url, server.url, "tiny-qwen3-vl"
        finally:
            engine.stop()


def video_copies(video: Path, count: int, directory: Path) -> list[Path]:
    """`count` copies of the video that differ in their bytes (an MP4 'free' box
    appended), so no cache on either side can answer one request from another."""
    copies = []
    data = video.read_bytes()
    for i in range(count):
        path = directory / f"{video.stem}-{i}{video.suffix}"
        path.write_bytes(data + (16).to_bytes(4, "big") + b"free" + i.to_bytes(8, "big"))
        copies.append(path)
    return copies


def _requests_at(args: argparse.Namespace, kind: str, level: float) -> int:
    return max(args.requests, int(level) * 2) if kind == "concurrency" else args.requests


def _levels(args: argparse.Namespace) -> list[tuple[str, float]]:
    return [("concurrency", c) for c in args.concurrency] + [("rate", r) for r in args.rate]


def run(args: argparse.Namespace, engine_url: str, adapter_url: str, model: str, video: Path) -> dict[str, object]:
    copies: list[Path] = []
    if args.same_video:
        urls = [video.resolve().as_uri()]
    else:
        # A fresh copy for every request of every level and target: no cache
        # anywhere (the adapter's frames, vLLM's processor cache) sees one twice.
        needed = 2 * sum(_requests_at(args, kind, level) for kind, level in _levels(args))
        copies = video_copies(video, needed, video.parent)
        urls = [p.resolve().as_uri() for p in copies]
    try:
        return _run_levels(args, engine_url, adapter_url, model, video, urls)
    finally:
        for path in copies:
            path.unlink(missing_ok=True)


def _run_levels(
    args: argparse.Namespace, engine_url: str, adapter_url: str, model: str, video: Path, urls: list[str]
) -> dict[str, object]:
    from tqdm import tqdm

    targets = [Target("engine", engine_url.rstrip("/"), args.engine_api_key, temporal=False),
               Target("adapter", adapter_url.rstrip("/"), args.api_key, temporal=True)]
    levels = _levels(args)
    results: dict[str, list] = {t.name: [] for t in targets}
    fresh = iter(urls) if len(urls) > 1 else itertools.repeat(urls[0])
    with tqdm(total=len(levels) * len(targets), desc="load", unit="level") as progress:
        for kind, level in levels:
            # Alternate targets at each level so drift on a shared machine hits both.
            for target in targets:
                requests = _requests_at(args, kind, level)
                bodies = [request_body(model, next(fresh), args.question, args.max_tokens, target.temporal, args.fps)
                          for _ in range(requests)]
                progress.set_postfix_str(f"{target.name} {kind}={level}")
                if kind == "concurrency":
                    samples, wall = asyncio.run(closed_loop(target, bodies, int(level), requests))
                else:
                    samples, wall = asyncio.run(open_loop(target, bodies, float(level), requests))
                results[target.name].append({kind: level, **summarize(samples, wall)})
                progress.update(1)
    overhead = []
    for direct, adapted in zip(results["engine"], results["adapter"]):
        if direct["e2e_s"] and adapted["e2e_s"]:
            overhead.append({
                **{k: v for k, v in direct.items() if k in ("concurrency", "rate")},
                "e2e_p50_ratio": adapted["e2e_s"]["p50"] / direct["e2e_s"]["p50"],
                "ttft_p50_ratio": adapted["ttft_s"]["p50"] / direct["ttft_s"]["p50"],
                "throughput_ratio": adapted["requests_per_s"] / direct["requests_per_s"],
            })
    return {"model": model, "video": str(video), "max_tokens": args.max_tokens, "fps": args.fps,
            "same_video": args.same_video,
            "targets": {t.name: t.url for t in targets}, "results": results, "adapter_over_engine": overhead}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine-url", default=None, help="the engine, directly (default: start a test stack)")
    parser.add_argument("--adapter-url", default=None, help="framestamp's adapter in front of that engine")
    parser.add_argument("--model", default=None, help="model name (default: the test stack's)")
    parser.add_argument("--api-key", default=None, help="adapter API key")
    parser.add_argument("--engine-api-key", default=None, help="engine API key")
    parser.add_argument("--video", default=None,
                        help="video both targets can read as file:// (default: a generated 60 s clip); with "
                             "your own servers it must lie in the adapter's media dir and the engine's "
                             "--allowed-local-media-path")
    parser.add_argument("--question", default="When does the scene change?")
    parser.add_argument("--same-video", action="store_true",
                        help="every request asks about the same file (repeated questions: caches hit); "
                             "default: byte-distinct copies, so every request decodes")
    parser.add_argument("--max-tokens", type=int, default=32, help="answer tokens per request (ignore_eos)")
    parser.add_argument("--fps", type=float, default=1.0, help="frames per second for both targets")
    parser.add_argument("--concurrency", default="1,2,4,8", help="closed-loop levels, comma-separated")
    parser.add_argument("--rate", default="", help="open-loop request rates per second, comma-separated")
    parser.add_argument("--requests", type=int, default=8, help="requests per level (at least 2x concurrency)")
    parser.add_argument("--out", default="benchmarks/results", help="folder for load.json and load.png")
    args = parser.parse_args(argv)
    args.concurrency = [int(c) for c in args.concurrency.split(",") if c]
    args.rate = [float(r) for r in args.rate.split(",") if r]
    if bool(args.engine_url) != bool(args.adapter_url):
        parser.error("give both --engine-url and --adapter-url, or neither (a test stack is started)")

    with tempfile.TemporaryDirectory() as tmp:
        video = Path(args.video) if args.video else _default_clip(Path(tmp))
        if args.engine_url:
            report = run(args, args.engine_url, args.adapter_url, args.model or _first_model(args), video)
        else:
            with local_stack(video) as (engine_url, adapter_url, model):
                report = run(args, engine_url, adapter_url, model, video)
    out = Path(args.out)
    write_report(out, "load", report)
    _print(report)
    _plot(report, out / "load.png")
    return 0


def _default_clip(directory: Path) -> Path:
    from framestamp.benchmarks.clips import ClipSpec, write_clip

    return write_clip(directory / "load.mp4", ClipSpec(duration=60.0, fps=30.0, width=320, height=180,
                                                        gop=60, scene_changes=(20.0, 41.5))).path


def _first_model(args: argparse.Namespace) -> str:
    headers = {"Authorization": f"Bearer {args.engine_api_key}"} if args.engine_api_key else {}
    return httpx.get(f"{args.engine_url.rstrip('/')}/v1/models", headers=headers, timeout=30).json()["data"][0]["id"]


def _print(report: dict) -> None:
    print(f"{'target':8} {'level':>14} {'ok':>5} {'prompt':>6} {'req/s':>7} {'tok/s':>7} {'TTFT p50':>9} "
          f"{'TTFT p99':>9} {'TPOT p50':>9} {'E2E p50':>8} {'E2E p99':>8}")
    for name, rows in report["results"].items():
        for row in rows:
            level = f"c={row['concurrency']}" if "concurrency" in row else f"rate={row['rate']}/s"
            ttft, tpot, e2e = row["ttft_s"] or {}, row["tpot_s"] or {}, row["e2e_s"] or {}
            print(f"{name:8} {level:>14} {row['ok']:>2}/{row['requests']:<2} {row['prompt_tokens_mean']:6.0f} "
                  f"{row['requests_per_s']:7.2f} "
                  f"{row['output_tokens_per_s']:7.1f} {ttft.get('p50', float('nan')):9.3f} "
                  f"{ttft.get('p99', float('nan')):9.3f} {tpot.get('p50', float('nan')):9.4f} "
                  f"{e2e.get('p50', float('nan')):8.3f} {e2e.get('p99', float('nan')):8.3f}")
    for row in report["adapter_over_engine"]:
        level = f"c={row['concurrency']}" if "concurrency" in row else f"rate={row['rate']}/s"
        print(f"adapter/engine {level}: E2E p50 x{row['e2e_p50_ratio']:.2f}, TTFT p50 x{row['ttft_p50_ratio']:.2f}, "
              f"throughput x{row['throughput_ratio']:.2f}")


def _plot(report: dict, path: Path) -> None:
    plt = pyplot()
    fig, (ax_lat, ax_thr) = plt.subplots(1, 2, figsize=(11, 4))
    for name, rows in report["results"].items():
        rows = [r for r in rows if "concurrency" in r and r["e2e_s"]]
        xs = [r["concurrency"] for r in rows]
        ax_lat.plot(xs, [r["e2e_s"]["p50"] for r in rows], marker="o", label=f"{name} E2E p50")
        ax_lat.plot(xs, [r["ttft_s"]["p50"] for r in rows], marker="x", linestyle="--", label=f"{name} TTFT p50")
        ax_thr.plot(xs, [r["requests_per_s"] for r in rows], marker="o", label=name)
    ax_lat.set_xlabel("concurrent users")
    ax_lat.set_ylabel("seconds")
    ax_lat.legend(fontsize=8)
    ax_thr.set_xlabel("concurrent users")
    ax_thr.set_ylabel("video requests / s")
    ax_thr.legend(fontsize=8)
    fig.suptitle(f"{report['model']}: engine directly vs through framestamp")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    raise SystemExit(main())
