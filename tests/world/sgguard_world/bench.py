"""What the benches share: a minimal launcher that measures a process's own peak RSS, and the
environment sgguard runs with against the emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from .lambda_runtime import hub_environment


class BenchError(Exception):
    pass


def fail(msg: str) -> None:
    raise BenchError(msg)


# Linux carries the pre-exec memory's high-water mark into ru_maxrss across execve, so a
# child forked from this (boto3-laden, ~70 MB) interpreter reports at least that much. The
# processes are therefore spawned by a minimal interpreter (-S -E, only os/sys/time/json);
# its own floor is measured with /bin/true and printed.
LAUNCHER = r"""
import json, os, sys, time
for line in sys.stdin:
    req = json.loads(line)
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            for fd, (path, flags) in enumerate(req["fds"]):
                f = os.open(path, flags, 0o600)
                os.dup2(f, fd)
                os.close(f)
            os.execve(req["argv"][0], req["argv"], req["env"])
        finally:
            os._exit(127)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    sys.stdout.write(json.dumps({"wall": wall, "exit": os.waitstatus_to_exitcode(status),
                                 "maxrss_kb": ru.ru_maxrss, "utime": ru.ru_utime,
                                 "stime": ru.ru_stime}) + "\n")
    sys.stdout.flush()
"""


class Launcher:
    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-S", "-E", "-c", LAUNCHER],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def run(self, argv: list[str], env: dict, stdout: str, stderr: str) -> dict:
        fds = [("/dev/null", os.O_RDONLY),
               (stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
               (stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)]
        self.proc.stdin.write(json.dumps({"argv": argv, "env": env, "fds": fds}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            fail("the launcher died")
        return json.loads(line)

    def stop(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def child_env(proxy: str, topic: str, home: str) -> dict:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,  # empty: no ~/.aws profile files to find
        **hub_environment(proxy),
        "SGGUARD_TOPIC_ARN": topic,
    }
    for k in ("SGGUARD_LOG", "RUST_BACKTRACE"):
        if k in os.environ:
            env[k] = os.environ[k]
    return env
