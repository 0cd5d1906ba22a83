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
    engine.add_argument("--ready-timeout", type=float, default=900.0,
                        help="seconds to wait for /health before giving up (default: 900)")
    engine.set_defaults(func=_cmd_engine)

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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
