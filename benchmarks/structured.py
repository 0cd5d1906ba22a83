"""Structured output: how often each answer format yields well-formed, usable events.

    framestamp bench structured [--requests 20] [--max-tokens 200]
    framestamp bench structured --adapter-url http://gpu:8000 --model Qwen/Qwen3-VL-8B-Instruct --video /media/clip.mp4

The same questions about the same video go through the adapter with
`answer_format: "text"` (lines with times, parsed afterwards) and
`answer_format: "json"` (the engine held to the events schema). For each:
the share of answers that are well-formed (json: valid JSON of the schema;
text: at least one line parsed into an event with no parser warning), that
yield at least one event, and that finish before max_tokens. Without URLs it
starts its own CPU test stack (the random-weight checkpoint, whose answers
are random: it shows what each format guarantees, not what a real model
writes; the parse benchmark covers recorded real-style answers).
Writes structured.json and structured.png.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import httpx

from framestamp.benchmarks.load import _default_clip, local_stack
from framestamp.benchmarks.report import pyplot, write_report
from framestamp.serving.parsing import parse_answer

QUESTIONS = (
    "When does the colour change?",
    "List every action with its time.",
    "视频中画面什么时候变色？",
    "When does the screen turn blue?",
)


def well_formed_json(text: str, duration: float) -> bool:
    try:
        data = json.loads(text, strict=False)
    except ValueError:
        return False
    return isinstance(data, list) and all(
        isinstance(item, dict) and set(item) == {"start", "end", "text"}
        and isinstance(item["start"], int | float) and 0 <= item["start"] <= duration
        for item in data
    )


def measure(adapter_url: str, api_key: str | None, model: str, video: Path, requests: int, max_tokens: int) -> dict:
    from tqdm import tqdm

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    results = {}
    with httpx.Client(timeout=600, headers=headers) as client, tqdm(total=2 * requests, desc="structured") as bar:
        for answer_format in ("text", "json"):
            rows = []
            for i in range(requests):
                response = client.post(f"{adapter_url.rstrip('/')}/v1/chat/completions", json={
                    "model": model, "max_tokens": max_tokens, "seed": i,
                    "messages": [{"role": "user", "content": [
                        {"type": "video_url", "video_url": {"url": video.resolve().as_uri()}},
                        {"type": "text", "text": QUESTIONS[i % len(QUESTIONS)]}]}],
                    "temporal": {"answer_format": answer_format, "fps": 1},
                }).json()
                text = response["choices"][0]["message"]["content"] or ""
                temporal = response["temporal"]
                report = parse_answer(text, duration=temporal["duration"])
                if answer_format == "json":
                    formed = well_formed_json(text, temporal["duration"])
                else:
                    formed = bool(report.events) and not report.warnings
                rows.append({
                    "well_formed": formed, "events": len(temporal["events"] or []),
                    "finished": response["choices"][0]["finish_reason"] == "stop",
                    "completion_tokens": response["usage"]["completion_tokens"],
                })
                bar.update(1)
            results[answer_format] = {
                "requests": requests,
                "well_formed": sum(r["well_formed"] for r in rows) / requests,
                "with_events": sum(r["events"] > 0 for r in rows) / requests,
                "finished": sum(r["finished"] for r in rows) / requests,
                "completion_tokens_mean": sum(r["completion_tokens"] for r in rows) / requests,
            }
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--adapter-url", default=None, help="a running adapter (default: start a test stack)")
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--model", default=None, help="model name (default: the test stack's)")
    parser.add_argument("--video", default=None, help="a video the adapter can read as file:// (default: generated)")
    parser.add_argument("--requests", type=int, default=20, help="questions per format")
    parser.add_argument("--max-tokens", type=int, default=200)
    parser.add_argument("--out", default="benchmarks/results", help="folder for structured.json and .png")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(args.video) if args.video else _default_clip(Path(tmp))
        if args.adapter_url:
            results = measure(args.adapter_url, args.api_key, args.model, video, args.requests, args.max_tokens)
            model = args.model
        else:
            with local_stack(video) as (_, adapter_url, model):
                results = measure(adapter_url, None, model, video, args.requests, args.max_tokens)
    out = Path(args.out)
    write_report(out, "structured", {"model": model, "max_tokens": args.max_tokens, "results": results})
    print(f"{'format':6} {'well-formed':>11} {'with events':>11} {'finished':>9} {'tokens':>7}")
    for name, r in results.items():
        print(f"{name:6} {r['well_formed']:11.0%} {r['with_events']:11.0%} {r['finished']:9.0%} "
              f"{r['completion_tokens_mean']:7.1f}")
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 3))
    metrics = ["well_formed", "with_events", "finished"]
    for k, name in enumerate(results):
        ax.bar([i + k * 0.4 for i in range(len(metrics))], [results[name][m] * 100 for m in metrics], 0.4, label=name)
    ax.set_xticks([i + 0.2 for i in range(len(metrics))], metrics)
    ax.set_ylabel("% of answers")
    ax.set_title(f"{model}: text vs JSON answers")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "structured.png", dpi=100)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
