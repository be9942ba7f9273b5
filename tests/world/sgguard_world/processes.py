"""`make demo`'s processes: each child in a process group of its own, all stopped on the way out,
and SIGINT/SIGTERM turned into an exception that keeps being raised at every checkpoint."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived; the argument is the signal number."""


class Signals:
    """SIGINT and SIGTERM raise Interrupted, and keep raising it at every checkpoint: botocore
    turns whatever is raised while it reads a socket into a retryable HTTPClientError, so the
    first raise can be swallowed and the call retried."""

    received: int | None = None

    @classmethod
    def install(cls) -> None:
        signal.signal(signal.SIGINT, cls.handle)
        signal.signal(signal.SIGTERM, cls.handle)

    @classmethod
    def handle(cls, signum: int, _frame) -> None:
        cls.received = signum
        raise Interrupted(signum)

    @classmethod
    def checkpoint(cls) -> None:
        if cls.received is not None:
            raise Interrupted(cls.received)

    @staticmethod
    def ignore() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


class Children:
    """Every process the demo starts, each in a session (process group) of its own, so that one
    killpg stops it and whatever it started. The function that cargo lambda watch runs gets a
    group of its own too: descendants are also signalled one by one."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[subprocess.Popen] = []

    def start(self, args: list, log: str | None = None, **kwargs) -> subprocess.Popen:
        """Starts a command. With `log`, its stdout and stderr go to that file of the log folder,
        unless `stdout=` or `stderr=` says otherwise."""
        with contextlib.ExitStack() as files:
            if log is not None:
                log_file = files.enter_context(open(self.log_dir / log, "ab"))
                kwargs.setdefault("stdout", log_file)
                kwargs.setdefault("stderr", log_file)
            process = subprocess.Popen([str(a) for a in args], start_new_session=True, **kwargs)
        self.started.append(process)
        return process

    def run(self, args: list, **kwargs) -> subprocess.CompletedProcess:
        """Runs a command to its end (its stdout is returned when `stdout=subprocess.PIPE`)."""
        process = self.start(args, **kwargs)
        stdout, _ = process.communicate()
        return subprocess.CompletedProcess(process.args, process.returncode, stdout)

    def stop_all(self) -> None:
        """Stdin EOF (the emulator's way out) and SIGTERM to everything, SIGKILL after 10 s."""
        below = [pid for process in self.started for pid in descendants(process.pid)]
        for process in self.started:
            if process.stdin and not process.stdin.closed:
                process.stdin.close()
        send_signal(self.started, below, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in self.started:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
        send_signal(self.started, below, signal.SIGKILL)  # what a leader started may outlive it
        for process in self.started:
            process.wait()


def send_signal(leaders: list[subprocess.Popen], others: list[int], signum: int) -> None:
    """Signals the leaders' process groups and the other processes; those already gone are fine."""
    for process in leaders:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signum)
    for pid in others:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


def descendants(pid: int) -> list[int]:
    """The processes below `pid`, from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])  # after `pid (comm) state`
            children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        below = children.get(todo.pop(), [])
        found += below
        todo += below
    return found
