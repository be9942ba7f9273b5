"""What the benches share: a minimal launcher that measures a process's own peak RSS, the
environment sgguard runs with against the emulator, the organization they sweep (seeded through
the real API) and the check of what a sweep found in it."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import NamedTuple, NoReturn

from .control import EmulatorProcess
from .lambda_runtime import hub_environment
from .org import client


class BenchError(Exception):
    pass


def fail(msg: str) -> None:
    raise BenchError(msg)


# The release binary where the Makefile builds it.
DEFAULT_BINARY = os.path.join(os.environ.get("CARGO_TARGET_DIR", "/var/tmp/sgguard-target"),
                              "release", "sgguard")


def parse_args(parser: argparse.ArgumentParser, argv: list[str] | None,
               latency_ms: str) -> argparse.Namespace | None:
    """A bench's arguments, with the options every emulator bench takes: the latency series
    (`latency_ms` by default) and the binary; None (said on stderr) when there is no binary."""
    parser.add_argument("--latency-ms", default=latency_ms,
                        help="per-request latency injected at the proxy, one series each")
    parser.add_argument("--binary", default=DEFAULT_BINARY)
    args = parser.parse_args(argv)
    if not os.access(args.binary, os.X_OK):
        print(f"{parser.prog}: no binary at {args.binary}: run `make release-build`", file=sys.stderr)
        return None
    return args


def exit_with(bench: str, main: Callable[[], int]) -> NoReturn:
    """Runs a bench's `main` and exits with its code; a failed check exits 1, said on stderr."""
    try:
        sys.exit(main())
    except BenchError as error:
        print(f"{bench}: FAILED: {error}", file=sys.stderr)
        sys.exit(1)


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


# -- the benches' organization -------------------------------------------------------------

RULES_PER_GROUP = 20
VIOLATION_EVERY = 40  # one seeded rule in 40 is SSH from the internet
BENCH_OU = "bench"


class Seeded(NamedTuple):
    world: dict  # the emulator's answer to POST /_sgguard/world
    members: list[str]
    violations: int  # seeded in all


def seed(emu: EmulatorProcess, accounts: int, rules: int, regions: Sequence[str], *,
         spokes: bool = False) -> Seeded:
    """An organization of `accounts` members (bench-000, …) with `rules` security-group rules
    in each of `regions` of every member, made through the real EC2 API (AssumeRole into
    OrganizationAccountAccessRole), one rule in VIOLATION_EVERY a violation of the default
    baseline. With `spokes`, the members are in the OU BENCH_OU and the spoke StackSet is
    deployed to it in `regions` (hub/stackset.tf as the world builds it), so that the tamper
    check finds every spoke as it should be."""
    names = [f"bench-{n:03}" for n in range(accounts)]
    spec: dict = {"members": names, "notifications": False}
    if spokes:
        spec.update(members=[{"name": name, "ou": BENCH_OU} for name in names], ous=[BENCH_OU],
                    spokes={"ous": [BENCH_OU], "regions": list(regions)})
    world = emu.control("POST", "world", spec, timeout=1800)
    violations = 0
    for account in world["members"]:
        credentials = emu.control("POST", "credentials", {"account": account})
        for region in regions:
            ec2 = client("ec2", emu.moto, region, credentials)
            made = group = 0
            while made < rules:
                gid = ec2.create_security_group(
                    GroupName=f"bench-{group}", Description="sgguard bench")["GroupId"]
                permissions = []
                for i in range(min(RULES_PER_GROUP, rules - made)):
                    n = made + i
                    if n % VIOLATION_EVERY == VIOLATION_EVERY - 1:
                        cidr, port = "0.0.0.0/0", 22
                        violations += 1
                    else:
                        cidr, port = f"10.{n // 250}.{n % 250}.0/24", 1024 + n
                    permissions.append({"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
                                        "IpRanges": [{"CidrIp": cidr}]})
                ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=permissions)
                made += len(permissions)
                group += 1
    return Seeded(world, world["members"], violations)


def check_swept(report: dict, members: Sequence[str], regions: Sequence[str], rules: int,
                violations: int) -> None:
    """A sweep report (`scan --format json`'s document, or a worker's part) of `members`:
    every one swept in every region, at least the seeded rules evaluated, exactly `violations`
    findings to revoke, no error."""
    swept = [a for a in report["accounts"] if a["account_id"] in members]
    if len(swept) != len(members) or report["errors"]:
        fail(f"not every account swept ({len(swept)} of {len(members)}): {report['errors'][:5]}")
    if any(len(a["regions"]) != len(regions) for a in swept):
        fail("not every region swept")
    evaluated = sum(a["rules"] for a in swept)
    if evaluated < len(members) * len(regions) * rules:
        fail(f"only {evaluated} rules evaluated")
    if report["totals"]["would_revoke"] != violations:
        fail(f"{report['totals']['would_revoke']} findings, {violations} seeded")
