"""The `framestamp` command.

Server-side commands import their modules lazily, so the client-only install
(`pip install framestamp`) still runs `framestamp --help` and the client
commands.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _add_engine_args(parser: argparse.ArgumentParser) -> None:
    from framestamp.serving.engine import DEFAULT_MODEL, EngineConfig

    d = EngineConfig()
    g = parser.add_argument_group("engine (vLLM)")
    g.add_argument("--model", default=DEFAULT_MODEL,
                   help=f"Qwen3-VL checkpoint: a Hugging Face hub id or a local folder (default: {DEFAULT_MODEL})")
    g.add_argument("--served-model-name", default=None,
                   help="model name clients send in requests (default: the --model value)")
    g.add_argument("--engine-host", default=d.host,
                   help=f"interface the engine listens on; loopback unless --allow-remote (default: {d.host})")
    g.add_argument("--engine-port", type=int, default=d.port, help=f"engine port (default: {d.port})")
    g.add_argument("--max-model-len", type=int, default=d.max_model_len,
                   help=f"context length in tokens; bounds the visual-token budget of a video (default: {d.max_model_len})")
    g.add_argument("--max-videos-per-prompt", type=int, default=d.max_videos_per_prompt,
                   help=f"--limit-mm-per-prompt for video (default: {d.max_videos_per_prompt})")
    g.add_argument("--max-images-per-prompt", type=int, default=d.max_images_per_prompt,
                   help=f"--limit-mm-per-prompt for images (default: {d.max_images_per_prompt})")
    g.add_argument("--allowed-local-media-path", default=None,
                   help="folder the engine may read file:// media from (default: none)")
    g.add_argument("--engine-api-key", default=None,
                   help="API key the engine requires (default: none; required with --allow-remote)")
    g.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                   help="auto picks cuda when the CUDA vLLM build and a GPU are present (default: auto)")
    g.add_argument("--cpu-kvcache-gib", type=float, default=d.cpu_kvcache_gib,
                   help=f"RAM for the KV cache on CPU, in GiB (VLLM_CPU_KVCACHE_SPACE) (default: {d.cpu_kvcache_gib:g})")
    g.add_argument("--gpu-memory-utilization", type=float, default=None,
                   help="fraction of GPU memory vLLM may use (default: vLLM's, 0.9)")
    g.add_argument("--tensor-parallel-size", type=int, default=1,
                   help="GPUs to shard the model over (default: 1)")
    g.add_argument("--allow-remote", action="store_true",
                   help="let the engine listen beyond loopback (needs --engine-api-key); for a private "
                        "network between containers only, never for users")
    g.add_argument("--engine-arg", action="append", default=[], metavar="ARG",
                   help="extra argument passed to vLLM unchanged; repeat for several, e.g. "
                        "--engine-arg=--enforce-eager")
    g.add_argument("--ready-timeout", type=float, default=900.0,
                   help="seconds to wait for the engine's /health before giving up (default: 900)")


def _engine_config(args: argparse.Namespace):
    from framestamp.serving.engine import EngineConfig

    return EngineConfig(
        model=args.model,
        served_model_name=args.served_model_name,
        host=args.engine_host,
        port=args.engine_port,
        max_model_len=args.max_model_len,
        max_videos_per_prompt=args.max_videos_per_prompt,
        max_images_per_prompt=args.max_images_per_prompt,
        allowed_local_media_path=args.allowed_local_media_path,
        api_key=args.engine_api_key,
        device=args.device,
        cpu_kvcache_gib=args.cpu_kvcache_gib,
        gpu_memory_utilization=args.gpu_memory_utilization,
        tensor_parallel_size=args.tensor_parallel_size,
        allow_remote=args.allow_remote,
        extra_args=tuple(args.engine_arg),
    )


def _cmd_engine(args: argparse.Namespace) -> int:
    from framestamp.serving.engine import EngineError, run_engine

    try:
        return run_engine(_engine_config(args), ready_timeout=args.ready_timeout)
    except EngineError as exc:
        print(f"framestamp engine: {exc}", file=sys.stderr)
        return 2


def _cmd_make_test_model(args: argparse.Namespace) -> int:
    from framestamp.serving.test_model import TestModelSpec, make_test_model

    spec = TestModelSpec(seed=args.seed, video_max_pixels=args.video_max_tokens * 32 * 32 * 2)
    path = make_test_model(args.directory, spec)
    print(f"wrote a random-weight Qwen3-VL checkpoint to {path} (its answers are random text)")
    return 0


def _api_keys(args: argparse.Namespace) -> frozenset[str]:
    import os
    from pathlib import Path

    keys = set(args.api_key)
    if args.api_keys_file:
        keys |= {line.strip() for line in Path(args.api_keys_file).read_text().splitlines()
                 if line.strip() and not line.startswith("#")}
    keys |= {k.strip() for k in os.environ.get("FRAMESTAMP_API_KEYS", "").split(",") if k.strip()}
    return frozenset(keys)


def _upload_dir(args: argparse.Namespace, media_dir):
    import os
    from pathlib import Path

    if args.upload_dir:
        return Path(args.upload_dir).resolve()
    if media_dir:
        return media_dir / "uploads"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "framestamp" / "uploads"


def _cmd_serve(args: argparse.Namespace) -> int:
    import logging
    import os
    import signal
    from pathlib import Path

    import uvicorn

    from framestamp.serving.adapter import AdapterConfig, create_app
    from framestamp.serving.engine import EngineError, EngineProcess
    from framestamp.serving.fetch import FetchPolicy

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    media_dir = Path(args.media_dir).resolve() if args.media_dir else None
    if media_dir:
        media_dir.mkdir(parents=True, exist_ok=True)
    engine = None
    engine_urls = list(args.engine_url)
    if not engine_urls:
        config = _engine_config(args)
        if media_dir and not config.allowed_local_media_path:
            from dataclasses import replace

            config = replace(config, allowed_local_media_path=str(media_dir))
        engine = EngineProcess(config)
        try:
            engine.start()
            print(f"framestamp: starting the engine for {config.model} (CPU start-up takes 1-2 minutes)", flush=True)
            engine.wait_ready(args.ready_timeout)
        except EngineError as exc:
            engine.stop()
            print(f"framestamp serve: {exc}", file=sys.stderr)
            return 2
        engine_urls = [config.url]
    adapter = AdapterConfig(
        engine_url=engine_urls[0],
        engine_urls=tuple(engine_urls),
        engine_api_key=args.engine_api_key,
        media_dir=media_dir,
        upload_dir=_upload_dir(args, media_dir),
        max_upload_store_bytes=int(args.max_upload_store_gb * 2**30),
        upload_ttl_seconds=args.upload_ttl_hours * 3600 if args.upload_ttl_hours > 0 else None,
        api_keys=_api_keys(args),
        max_video_bytes=args.max_video_mb * 2**20,
        max_request_bytes=(args.max_video_mb * 4 // 3 + 16) * 2**20,
        request_timeout=args.request_timeout,
        max_concurrent_per_key=args.max_concurrent_per_key,
        sampler_workers=args.sampler_workers or min(4, os.cpu_count() or 1),
        default_fps=args.default_fps,
        default_max_frames=args.default_max_frames,
        max_visual_tokens=max(256, args.max_model_len - args.text_token_reserve),
        prompts_dirs=tuple(Path(d) for d in args.prompts_dir),
        frame_cache_bytes=args.frame_cache_mb * 2**20,
        default_answer_format=args.answer_format,
        fetch=FetchPolicy(
            allowed_hosts=frozenset(args.allow_remote_host), max_bytes=args.remote_max_mb * 2**20,
            timeout=args.remote_timeout, allow_private_networks=args.remote_allow_private_networks,
        ),
    )
    try:
        ui = None if args.no_ui else _start_ui(args, adapter, media_dir)
    except RuntimeError as exc:
        if engine is not None:
            engine.stop()
        print(f"framestamp serve: web UI: {exc} (use --ui-port or --no-ui)", file=sys.stderr)
        return 2
    # uvicorn finishes in-flight requests on SIGINT/SIGTERM, then re-raises
    # the signal to the handler it found. With Python's default handler that
    # kills this process before `finally` stops the engine; raising
    # SystemExit instead unwinds through it.
    def _exit(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _exit)
    try:
        uvicorn.run(create_app(adapter), host=args.host, port=args.port,
                    timeout_graceful_shutdown=int(args.request_timeout), log_level="info")
    except SystemExit:
        pass
    finally:
        if ui is not None:
            ui.stop(timeout=5)
        if engine is not None:
            engine.stop()
    return 0


def _start_ui(args: argparse.Namespace, adapter, media_dir):
    """The web page (and the seed's /api/predict) on --ui-port, in a thread.

    It calls the adapter over HTTP like any client; uvicorn in a side thread
    leaves signal handling to the adapter's server in the main thread.
    """
    from pathlib import Path

    from framestamp.serving.threaded import ServerThread
    from framestamp.serving.webui import UIConfig, create_app

    host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    key = args.ui_api_key or (sorted(adapter.api_keys)[0] if adapter.api_keys else None)
    config = UIConfig(
        adapter_url=f"http://{host}:{args.port}/v1", api_key=key, media_dir=media_dir,
        prompts_dirs=tuple(Path(d) for d in args.prompts_dir),
    )
    server = ServerThread(create_app(config), host=args.ui_host or args.host, port=args.ui_port,
                          name="framestamp-ui").start()
    print(f"framestamp: web UI on {server.url}", flush=True)
    return server


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="framestamp",
        description="Exact video timestamps from Qwen3-VL on vLLM.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    engine = sub.add_parser(
        "engine",
        help="start the vLLM engine serving a Qwen3-VL checkpoint",
        description="Start vLLM's OpenAI-compatible server for a Qwen3-VL checkpoint with flags chosen "
                    "for video, wait until /health answers, stream its log, and stop it (and its "
                    "workers) on Ctrl-C or SIGTERM.",
    )
    _add_engine_args(engine)
    engine.set_defaults(func=_cmd_engine)

    serve = sub.add_parser(
        "serve",
        help="start the engine and the adapter (the OpenAI-compatible API with timestamps)",
        description="Start the vLLM engine (unless --engine-url names a running one) and framestamp's "
                    "adapter in front of it. Users and the OpenAI SDK talk to the adapter at "
                    "http://HOST:PORT/v1; the engine stays on loopback.",
    )
    a = serve.add_argument_group("adapter")
    a.add_argument("--host", default="127.0.0.1", help="adapter interface; 0.0.0.0 for all (default: 127.0.0.1)")
    a.add_argument("--port", type=int, default=8000, help="adapter port (default: 8000)")
    a.add_argument("--engine-url", action="append", default=[],
                   help="use an engine that is already running (e.g. http://127.0.0.1:8100) instead of starting one; "
                        "repeat for replicas: questions about one video stick to one engine, the others take over "
                        "when it is down")
    a.add_argument("--media-dir", default=None,
                   help="folder file:// video URLs may name; also where uploads are stored (default: none)")
    a.add_argument("--prompts-dir", action="append", default=[],
                   help="a folder of your own prompt *.toml files, layered over the built-in ones (repeatable)")
    u = serve.add_argument_group("web UI")
    u.add_argument("--ui-port", type=int, default=7860, help="port of the web page and /api/predict (default: 7860)")
    u.add_argument("--ui-host", default=None, help="interface of the web page (default: --host)")
    u.add_argument("--ui-api-key", default=None,
                   help="key the page uses to call the adapter (default: the first --api-key)")
    u.add_argument("--no-ui", action="store_true", help="serve the API only")
    a.add_argument("--upload-dir", default=None,
                   help="where POST /v1/files stores uploads (default: MEDIA_DIR/uploads, "
                        "else ~/.cache/framestamp/uploads)")
    a.add_argument("--upload-ttl-hours", type=float, default=24.0,
                   help="uploads expire this long after arriving; 0 keeps them (default: 24)")
    a.add_argument("--max-upload-store-gb", type=float, default=20.0,
                   help="total size of stored uploads; more get 507 (default: 20)")
    a.add_argument("--api-key", action="append", default=[],
                   help="an API key clients must send as Authorization: Bearer; repeat for several. "
                        "Also read from --api-keys-file and FRAMESTAMP_API_KEYS (comma-separated). None: no auth")
    a.add_argument("--api-keys-file", default=None, help="file with one API key per line")
    a.add_argument("--max-video-mb", type=int, default=512, help="largest video accepted, in MiB (default: 512)")
    a.add_argument("--request-timeout", type=float, default=600.0,
                   help="seconds an engine call may take; also the graceful-shutdown wait (default: 600)")
    a.add_argument("--max-concurrent-per-key", type=int, default=8,
                   help="requests one API key may have in flight; more get 429 (default: 8)")
    a.add_argument("--sampler-workers", type=int, default=0,
                   help="processes that decode long videos in parallel (default: min(4, cores))")
    a.add_argument("--default-fps", type=float, default=2.0, help="frames sampled per second (default: 2)")
    a.add_argument("--default-max-frames", type=int, default=256, help="frames per video at most (default: 256)")
    a.add_argument("--allow-remote-host", action="append", default=[], metavar="HOST",
                   help="fetch http(s) video URLs from this host (repeatable; *.example.com for subdomains). "
                        "None: http(s) URLs are refused")
    a.add_argument("--remote-max-mb", type=int, default=256, help="largest fetched video, in MiB (default: 256)")
    a.add_argument("--remote-timeout", type=float, default=60.0, help="seconds a fetch may take (default: 60)")
    a.add_argument("--remote-allow-private-networks", action="store_true",
                   help="let allowed hosts resolve to private/loopback addresses (intranets only; default: refused)")
    a.add_argument("--answer-format", choices=["text", "json"], default="text",
                   help="default answer form: text lines with times, or JSON held to an events schema "
                        "(structured output); requests choose with temporal.answer_format (default: text)")
    a.add_argument("--frame-cache-mb", type=int, default=1024,
                   help="memory for sampled frames kept for repeated questions, LRU (default: 1024; 0: off)")
    a.add_argument("--text-token-reserve", type=int, default=2048,
                   help="context tokens kept for text; the rest of --max-model-len is the video budget (default: 2048)")
    _add_engine_args(serve)
    serve.set_defaults(func=_cmd_serve)

    make = sub.add_parser(
        "make-test-model",
        help="write a tiny random-weight Qwen3-VL checkpoint for tests and offline demos",
        description="Write a random-weight checkpoint of the real Qwen3-VL architecture (about 0.5 M "
                    "parameters: config, safetensors, tokenizer, chat template, image and video "
                    "processor configs) that vLLM loads. Its answers are random text.",
    )
    make.add_argument("directory", help="folder to write the checkpoint to (created if missing)")
    make.add_argument("--seed", type=int, default=0, help="random seed for the weights (default: 0)")
    make.add_argument("--video-max-tokens", type=int, default=512,
                      help="total visual-token budget of one video in the processor config (default: 512)")
    make.set_defaults(func=_cmd_make_test_model)

    from framestamp.client import ask

    ask.add_parser(sub)

    bench = sub.add_parser(
        "bench",
        help="run a benchmark: decode, timestamps, parse, load, structured (JSON + PNG in benchmarks/results)",
        description="Run one of framestamp's benchmarks; arguments after the name go to it "
                    "(framestamp bench decode --help).",
    )
    bench.add_argument("name", choices=BENCHMARKS, help="which benchmark")
    bench.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    bench.set_defaults(func=_cmd_bench)
    return parser


BENCHMARKS = ("decode", "timestamps", "parse", "load", "structured")


def _cmd_bench(args: argparse.Namespace) -> int:
    import importlib

    # The benchmark's own parser names itself after argv[0] in usage lines.
    sys.argv[0] = f"framestamp bench {args.name}"
    return importlib.import_module(f"framestamp.benchmarks.{args.name}").main(args.args)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
