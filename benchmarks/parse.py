"""Parsing: how many real-style answers `parse_events` reads right, and how fast.

    framestamp bench parse [--repeat 5] [--out benchmarks/results]

The corpus (benchmarks/data/parse_corpus.json) holds answers in the forms
Qwen3-VL and similar models write (`<12.5 seconds>`, `12.5 - 15.0 seconds`,
`00:01:23`, `01:23.40`, Chinese `第12秒` / `1分30秒` / `12秒到15秒`, seed-style
bullets, JSON keyed by ranges or with start/end fields, fenced blocks, prose
with several events), each with the events a reader would take from it.

A case counts as right when the same number of events comes back, each start
and end within 0.05 s and the expected text kept. Against it, in the same
run: the regex a user would write first (clock times `H:MM:SS`/`MM:SS` and
`N seconds`, each match one event start). Throughput is answers per second
over the whole corpus, median of --repeat passes. Writes parse.json and
parse.png.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from framestamp.benchmarks.report import pyplot, spread, write_report
from framestamp.serving.parsing import parse_events

CORPUS = Path(__file__).parent / "data" / "parse_corpus.json"
TOLERANCE = 0.05
_NAIVE = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{2}(?:\.\d+)?)|(\d+(?:\.\d+)?)\s*(?:seconds|secs?|s)\b")


def naive_parse(text: str, duration: float | None = None) -> list[tuple[float, float | None, str]]:
    """The first regex most users write: every clock time or 'N seconds' is an event start."""
    events = []
    for match in _NAIVE.finditer(text):
        hours, minutes, seconds, plain = match.groups()
        start = float(plain) if plain is not None else int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
        events.append((start, None, text))
    return events


def framestamp_parse(text: str, duration: float | None = None) -> list[tuple[float, float | None, str]]:
    return [(e.start, e.end, e.text) for e in parse_events(text, duration=duration)]


PARSERS: dict[str, Callable[[str, float | None], list[tuple[float, float | None, str]]]] = {
    "framestamp parse_events": framestamp_parse,
    "naive regex": naive_parse,
}


def case_is_right(found: list[tuple[float, float | None, str]], expected: list[list]) -> bool:
    if len(found) != len(expected):
        return False
    for (start, end, text), (want_start, want_end, want_text) in zip(found, expected):
        if abs(start - want_start) > TOLERANCE:
            return False
        if (want_end is None) != (end is None) or (want_end is not None and abs(end - want_end) > TOLERANCE):
            return False
        if want_text not in text:
            return False
    return True


def measure(corpus: list[dict], repeat: int) -> dict[str, dict]:
    results = {}
    for name, parser in PARSERS.items():
        right: Counter[str] = Counter()
        total: Counter[str] = Counter()
        for case in corpus:
            total[case["tag"]] += 1
            try:
                ok = case_is_right(parser(case["text"], case["duration"]), case["events"])
            except Exception:  # a baseline may crash; that case is simply wrong
                ok = False
            right[case["tag"]] += ok
        rates = []
        for _ in range(repeat):
            began = time.perf_counter()
            for case in corpus:
                try:
                    parser(case["text"], case["duration"])
                except Exception:
                    pass
            rates.append(len(corpus) / (time.perf_counter() - began))
        results[name] = {
            "cases": len(corpus),
            "right": sum(right.values()),
            "accuracy": sum(right.values()) / len(corpus),
            "answers_per_second": spread(rates),
            "by_tag": {tag: f"{right[tag]}/{total[tag]}" for tag in sorted(total)},
        }
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="benchmarks/results", help="folder for parse.json and parse.png")
    parser.add_argument("--repeat", type=int, default=5, help="timed passes over the corpus")
    parser.add_argument("--corpus", default=str(CORPUS), help="JSON list of {text, duration, events, tag}")
    args = parser.parse_args(argv)
    corpus = json.loads(Path(args.corpus).read_text(encoding="utf-8"))
    results = measure(corpus, args.repeat)
    out = Path(args.out)
    write_report(out, "parse", {"corpus": str(args.corpus), "tolerance_s": TOLERANCE, "results": results})
    print(f"{'parser':26} {'right':>9} {'accuracy':>8} {'answers/s':>10}")
    for name, r in results.items():
        print(f"{name:26} {r['right']:4d}/{r['cases']:<4d} {r['accuracy']:8.1%} "
              f"{r['answers_per_second']['median']:10.0f}")
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3))
    names = list(results)
    ax.barh(names, [results[n]["accuracy"] * 100 for n in names], color=["#f97316", "#9ca3af"])
    ax.set_xlabel(f"answers read right (%), {len(corpus)} real-style answers")
    ax.set_xlim(0, 100)
    fig.tight_layout()
    fig.savefig(out / "parse.png", dpi=100)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
