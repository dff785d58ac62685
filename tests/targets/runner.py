"""Start a zoo target as a child process on a free loopback port (for the targets' own tests).

Kept free of digasec's harness code on purpose: the targets are proven without the harness.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.targets import READY_PATHS, TARGETS_DIR

PROJECT = TARGETS_DIR.parents[1]


@dataclass
class RunningTarget:
    name: str
    variant: str
    base_url: str
    process: subprocess.Popen[bytes]
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, **kwargs: Any) -> httpx.Client:
        """A client of this target, closed by close_clients()."""
        client = httpx.Client(base_url=self.base_url, timeout=10.0, trust_env=False, **kwargs)
        self.clients.append(client)
        return client

    def close_clients(self) -> None:
        while self.clients:
            self.clients.pop().close()


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running(name: str, variant: str, *, timeout_s: float = 30.0) -> Iterator[RunningTarget]:
    port = free_port()
    command = [sys.executable, "-m", f"tests.targets.{name}.app", "--port", str(port), "--variant", variant]
    process = subprocess.Popen(command, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait(base_url + READY_PATHS[name], process, timeout_s)
        target = RunningTarget(name, variant, base_url, process)
        yield target
        target.close_clients()
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        if process.stderr is not None:
            process.stderr.close()


def _wait(url: str, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read().decode(errors="replace")[-2000:] if process.stderr else ""
            raise RuntimeError(f"{url}: the target exited with {process.returncode}: {error}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2.0, trust_env=False).is_success:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout_s:.0f} s")


def ground_truth(name: str) -> list[dict[str, str]]:
    flaws: list[dict[str, str]] = yaml.safe_load((TARGETS_DIR / name / "ground_truth.yaml").read_text())
    return flaws


def profile_path(name: str, variant: str) -> Path:
    return TARGETS_DIR / name / ("profile.yaml" if variant == "planted" else "profile-clean.yaml")
