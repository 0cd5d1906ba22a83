"""`framestamp ask`: one question about one video, from the command line.

    framestamp ask clip.mp4 "when does the door open?" --granularity subsecond
    framestamp ask clip.mp4 --task chapters --format chapters > chapters.txt

The server and key come from --base-url/--api-key or FRAMESTAMP_BASE_URL /
FRAMESTAMP_API_KEY, as the OpenAI CLI reads OPENAI_*. Progress (upload, then
sampling and generation) goes to stderr, results to stdout or --output.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

from framestamp.client._client import TemporalClient
from framestamp.client._core import Upload, classify_video
from framestamp.client.errors import FramestampError
from framestamp.client.exports import ExportError, ExportFormat, export_events
from framestamp.client.types import AnswerDelta, TemporalAnswer
from framestamp.serving.events import Granularity


def add_parser(sub: argparse._SubParsersAction) -> None:
    ask = sub.add_parser(
        "ask",
        help="ask a running framestamp server a question about a video",
        description="Ask a question about a video (a local file, which is uploaded once, a file id, or a "
                    "URL the server accepts) and print the answer and its events, or write them as "
                    "SRT, WebVTT, YouTube chapters, CSV, JSON, an EDL or an OpenTimelineIO file.",
    )
    ask.add_argument("video", help="path, file-... id, file:// or data: URL")
    ask.add_argument("question", nargs="?", default=None, help="the question (or use --task)")
    ask.add_argument("--task", default=None,
                     help="a prompt template instead of a question: find, actions, dense_captions, chapters, "
                          "count, highlights (find and count take the question as what to look for)")
    ask.add_argument("--granularity", choices=[g.value for g in Granularity], default="second",
                     help="how times are written: HH:MM:SS, HH:MM:SS.mmm, or coarse intervals (default: second)")
    ask.add_argument("--fps", type=float, default=None, help="frames sampled per second (server default: 2)")
    ask.add_argument("--max-frames", type=int, default=None, help="frames sampled at most")
    ask.add_argument("--start", type=float, default=None, help="only look from this second")
    ask.add_argument("--end", type=float, default=None, help="only look up to this second")
    ask.add_argument("--language", choices=["en", "zh"], default=None,
                     help="language of the answer format (default: the question's)")
    ask.add_argument("--max-tokens", type=int, default=None, help="longest answer, in tokens")
    ask.add_argument("--stream", action="store_true", help="print the answer as it is generated")
    out = ask.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the whole answer (text, events, video) as JSON")
    out.add_argument("--format", choices=[f.value for f in ExportFormat], default=None,
                     help="print the events in this format instead")
    ask.add_argument("-o", "--output", default=None, help="write the result to this file instead of stdout")
    ask.add_argument("--base-url", default=None, help="server, e.g. http://host:8000/v1 (env FRAMESTAMP_BASE_URL)")
    ask.add_argument("--api-key", default=None, help="API key (env FRAMESTAMP_API_KEY)")
    ask.add_argument("--model", default=None, help="model name (default: the server's first)")
    ask.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the answer (default: 600)")
    ask.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    ask.set_defaults(func=run)


class _Ticker:
    """'sampling and generating... 12 s' on stderr while the server works."""

    def __init__(self, label: str, enabled: bool) -> None:
        self._label = label
        self._enabled = enabled and sys.stderr.isatty()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        began = time.monotonic()
        while not self._stop.wait(0.5):
            sys.stderr.write(f"\r{self._label}... {time.monotonic() - began:4.0f} s")
            sys.stderr.flush()

    def __enter__(self) -> _Ticker:
        if self._enabled:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._enabled:
            self._stop.set()
            self._thread.join()
            sys.stderr.write("\r\033[K")


def _upload_if_local(client: TemporalClient, video: str, quiet: bool) -> str:
    target = classify_video(video)
    if not isinstance(target, Upload):
        return video
    from tqdm import tqdm

    size = target.path.stat().st_size if target.path else len(target.data or b"")
    with tqdm(total=size, unit="B", unit_scale=True, desc=f"uploading {target.filename}",
              disable=quiet, file=sys.stderr, leave=False) as bar:
        return client.upload(video, progress=bar.update).id


def _render(answer: TemporalAnswer, args: argparse.Namespace, video: str) -> str:
    if args.json:
        return answer.model_dump_json(indent=2) + "\n"
    if args.format:
        return export_events(
            answer.events or [], args.format, duration=answer.duration,
            fps=(answer.video.fps if answer.video and answer.video.fps else 30.0), video_name=Path(video).name,
        )
    lines = [answer.text.rstrip(), ""]
    if answer.events:
        lines.append("events:")
        for event in answer.events:
            when = event.start_text + (f" - {event.end_text}" if event.end_text else "")
            lines.append(f"  {when}  {event.text}")
    elif answer.events is not None:
        lines.append("(no times found in the answer)")
    lines += [f"warning: {w}" for w in answer.warnings]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    if not args.question and not args.task:
        print("framestamp ask: give a question or --task", file=sys.stderr)
        return 2
    options = {
        "granularity": args.granularity, "fps": args.fps, "max_frames": args.max_frames, "start": args.start,
        "end": args.end, "language": args.language,
    }
    if args.max_tokens is not None:
        options["max_tokens"] = args.max_tokens
    try:
        with TemporalClient(base_url=args.base_url, api_key=args.api_key, model=args.model,
                            timeout=args.timeout) as client:
            video = _upload_if_local(client, args.video, args.quiet)
            if args.task:
                question = client.task_question(args.task, args.question, args.language)
            else:
                question = args.question
            if args.stream:
                answer = _stream(client, video, question, options, show=not (args.json or args.format or args.output))
            else:
                with _Ticker("sampling and generating", not args.quiet):
                    answer = client.ask(video, question, **options)
    except (FramestampError, ExportError, FileNotFoundError, ValueError) as exc:
        print(f"framestamp ask: {exc}", file=sys.stderr)
        return 1
    try:
        text = _render(answer, args, args.video)
    except ExportError as exc:
        print(f"framestamp ask: {exc}", file=sys.stderr)
        return 1
    if args.stream and not (args.json or args.format or args.output):
        text = text[len(answer.text.rstrip()):]  # the answer itself was printed as it came
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _stream(client: TemporalClient, video: str, question: str, options: dict, *, show: bool) -> TemporalAnswer:
    answer = None
    for item in client.ask(video, question, stream=True, **options):
        if isinstance(item, AnswerDelta):
            if show:
                sys.stdout.write(item.text)
                sys.stdout.flush()
        else:
            answer = item
    assert answer is not None
    return answer
