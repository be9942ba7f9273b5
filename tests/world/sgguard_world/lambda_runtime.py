"""The sgguard binary as the hub Lambda, under cargo-lambda's runtime emulator.

`cargo lambda watch` runs the binary with AWS_LAMBDA_RUNTIME_API set and takes invocations
over HTTP, as the Lambda service does. It starts the function with `cargo run --bin sgguard`
(CARGO_TARGET_DIR as given, default /var/tmp/sgguard-target): the first invocation builds the
binary if the sources changed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from .files import REPO
from .org import HUB_KEY, HUB_REGION, REMEDIATION_ROLE

TARGET_DIR = Path(os.environ.get("CARGO_TARGET_DIR", "/var/tmp/sgguard-target"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, what: str, seconds: float,
                  checkpoint: Callable[[], None] = lambda: None) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            checkpoint()
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start listening on port {port}") from None
            time.sleep(0.1)


def cargo_lambda() -> str:
    found = shutil.which("cargo-lambda") or str(Path(sys.executable).parent / "cargo-lambda")
    if not os.path.exists(found):
        raise RuntimeError("cargo-lambda is not installed in the venv: run `make venv`")
    return found


def hub_environment(endpoint: str) -> dict[str, str]:
    """What sgguard needs to run as the hub against the emulator: its endpoint, the hub's key,
    region and the remediation role's name."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": HUB_KEY["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": HUB_KEY["aws_secret_access_key"],
        "AWS_REGION": HUB_REGION,
        "SGGUARD_ROLE_NAME": REMEDIATION_ROLE,
    }


class HubLambda:
    """The hub Lambda on a free loopback port, with the hub's credentials, the emulator as its
    AWS endpoint and enforce mode. `spawn` starts the command (default: subprocess.Popen in a
    session of its own, output to `log` or nowhere)."""

    def __init__(self, endpoint: str, topic_arn: str, *, spawn: Callable[..., subprocess.Popen] | None = None,
                 log: str | None = None, checkpoint: Callable[[], None] = lambda: None) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/2015-03-31/functions/sgguard/invocations"
        variables = {**hub_environment(endpoint), "SGGUARD_TOPIC_ARN": topic_arn, "SGGUARD_MODE": "enforce",
                     "SGGUARD_LOG": "info"}
        command = [cargo_lambda(), "lambda", "watch", "--ignore-changes", "--locked", "--quiet"]
        command += ["-A", "127.0.0.1", "-P", str(port), "--bin", "sgguard"]
        for name, value in variables.items():
            command += ["--env-var", f"{name}={value}"]
        env = {**os.environ, "CARGO_TARGET_DIR": str(TARGET_DIR), "CARGO_TERM_COLOR": "never"}
        kwargs = {"cwd": REPO, "env": env, "stdin": subprocess.DEVNULL}
        if spawn is None:
            self._log = open(log, "ab") if log else subprocess.DEVNULL
            spawn = subprocess.Popen
            kwargs.update(stdout=self._log, stderr=self._log, start_new_session=True)
        self.process = spawn(command, **kwargs)
        wait_for_port(port, self.process, "cargo lambda watch", 60, checkpoint)

    def invoke(self, event: dict) -> tuple[int, dict]:
        """The HTTP status and the handler's answer (an outcome, or errorType/errorMessage)."""
        request = urllib.request.Request(self.url, data=json.dumps(event).encode(), method="POST")
        try:
            # The first invocation starts the function (`cargo run` may build it): allow for it.
            with urllib.request.urlopen(request, timeout=900) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
        answer = json.loads(body or b"null")
        return status, answer if isinstance(answer, dict) else {"answer": answer}

    def stop(self) -> None:
        """SIGTERM to its process group, SIGKILL after 20 s."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
