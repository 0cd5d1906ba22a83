"""An ASGI app served by uvicorn in a background thread.

The web page runs beside the adapter this way in `framestamp serve` (the
adapter's server keeps the main thread and its signal handlers), and the
tests and benchmarks serve their apps the same way. A server thread does
not install signal handlers; `stop()` asks it to finish.
"""

from __future__ import annotations

import socket
import threading
import time

import uvicorn


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class ServerThread:
    """uvicorn serving `app` in a daemon thread; a context manager, or start()/stop()."""

    def __init__(self, app, *, host: str = "127.0.0.1", port: int | None = None, log_level: str = "warning",
                 name: str = "uvicorn") -> None:
        self.host = host
        self.port = port if port is not None else free_port(host)
        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=self.port, log_level=log_level))
        self.thread = threading.Thread(target=self.server.run, name=name, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 60.0) -> ServerThread:
        """Start serving and wait until the server listens (RuntimeError if it cannot)."""
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"could not serve on {self.host}:{self.port}")
            time.sleep(0.05)
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=timeout)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
