"""The emulator (python -m sgguard_world.emulator) as a child process, and its control API."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Callable


class EmulatorProcess:
    """Starts the emulator and reads its startup line; `stop()` closes its stdin (its way out).

    `spawn` starts the command (default subprocess.Popen): the demo passes its own, which puts
    the child in a process group and its stderr in a log file."""

    def __init__(self, *args: str, spawn: Callable[..., subprocess.Popen] | None = None, **kwargs) -> None:
        command = [sys.executable, "-m", "sgguard_world.emulator", *args]
        kwargs = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, **kwargs}
        self.process = (spawn or subprocess.Popen)(command, **kwargs)
        line = self.process.stdout.readline()
        if not line:
            self.process.kill()
            raise RuntimeError("the emulator printed nothing (see its stderr)")
        urls = json.loads(line)
        self.proxy: str = urls["proxy"]
        self.moto: str = urls["moto"]

    def control(self, method: str, path: str, body: dict | None = None, timeout: float = 120) -> dict:
        return control(self.proxy, method, path, body, timeout)

    def counts(self) -> dict:
        return self.control("GET", "counts")

    def reset(self) -> None:
        self.control("POST", "reset")

    def latency(self, seconds: float) -> None:
        """Every forwarded request waits `seconds` first (0: off)."""
        self.control("POST", "latency", {"seconds": seconds})

    def stop(self, timeout: float = 20) -> int:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def control(proxy: str, method: str, path: str, body: dict | None = None, timeout: float = 120) -> dict:
    """One control request (POST /_sgguard/<path>, GET for counts); its JSON answer. An HTTP
    error status raises urllib.error.HTTPError."""
    data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
    request = urllib.request.Request(f"{proxy}/_sgguard/{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())
