"""What every benchmark report carries: the machine, the command, and spreads."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from datetime import datetime, timezone
from pathlib import Path


def machine() -> dict[str, object]:
    """Where the numbers were taken; a figure without this is not comparable."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = None
    try:
        memory_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def spread(values: list[float]) -> dict[str, float]:
    """Median and range: on a small shared machine single runs are noise."""
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "runs": len(values),
    }


def write_report(out: Path, name: str, results: dict[str, object]) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": name,
        "command": " ".join(["python -m", f"framestamp.benchmarks.{name}", *sys.argv[1:]]),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        **results,
    }
    path = out / f"{name}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    return path


def pyplot():
    """matplotlib's pyplot on the file-only backend (benchmarks run headless)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
