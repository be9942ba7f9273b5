#!/usr/bin/env python3
"""Bench the organization sweep (`sgguard scan`) against the AWS emulator.

Has the emulator (python -m sgguard_world.emulator) build an organization of ACCOUNTS member
accounts (plus the hub) in its moto, seeds RULES security-group rules in each of two regions of every member (through the real
EC2 API, via AssumeRole into OrganizationAccountAccessRole; one rule in 40 violates the
default baseline), then runs

    sgguard scan --accounts org --regions us-east-1,eu-west-1 --format json --concurrency C

as a new process for each C (started by bench_hub.py's minimal launcher, so that the peak RSS
is sgguard's, not a forked Python's: sgguard_world.bench), and prints a table: wall time, sgguard's own CPU time
(user + system of the process, from os.wait4), peak RSS, AWS requests made, AssumeRole calls (counted
at the proxy), and the emulator's own API time (the proxy's per-request forwarding time).
Every run is checked: all accounts and regions swept, every seeded rule evaluated, exactly the
seeded violations found, nothing failed.

Each concurrency runs twice: against the bare emulator, and with a per-request latency injected
at the proxy (default 50 ms) as a stand-in for a real endpoint's round trip, which is where
concurrency pays off (moto itself answers one request at a time).

Report-only (no --remediate), so every run sees the same rules. Needs the project venv:

    make release-build && /var/tmp/sgguard-venv/bin/python scripts/bench_sweep.py \
        [--accounts 20] [--rules 200] [--concurrency 1,4,16] [--binary PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from sgguard_world.bench import Launcher, check_swept, child_env, exit_with, fail, parse_args, seed
from sgguard_world.control import EmulatorProcess

REGIONS = ["us-east-1", "eu-west-1"]


def run(launcher: Launcher, binary: str, env: dict, concurrency: int,
        workdir: str) -> tuple[dict, dict, str]:
    """One `sgguard scan` process, started by the minimal launcher (its RSS is sgguard's)."""
    args = [binary, "scan", "--accounts", "org", "--regions", ",".join(REGIONS),
            "--format", "json", "--concurrency", str(concurrency)]
    out, err = os.path.join(workdir, "out.json"), os.path.join(workdir, "err.txt")
    result = launcher.run(args, env, out, err)
    stderr = Path(err).read_text()
    if result["exit"] != 1:
        fail(f"scan exited {result['exit']} (expected 1, findings): {stderr[-2000:]}")
    return result, json.loads(Path(out).read_text()), stderr


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--rules", type=int, default=200, help="rules per account and region")
    parser.add_argument("--concurrency", default="1,4,16")
    args = parse_args(parser, argv, latency_ms="0,50")
    if args is None:
        return 2
    emu = EmulatorProcess()
    launcher = Launcher()
    try:
        started = time.perf_counter()
        _, members, violations = seed(emu, args.accounts, args.rules, REGIONS)
        print(f"seeded {len(members)} accounts x {len(REGIONS)} regions x {args.rules} rules "
              f"({violations} violations) in {time.perf_counter() - started:.0f} s")
        with tempfile.TemporaryDirectory() as home:
            env = child_env(emu.proxy, "", home)
            del env["SGGUARD_TOPIC_ARN"]
            rows = []
            series = [(int(ms), int(c)) for ms in args.latency_ms.split(",")
                      for c in args.concurrency.split(",")]
            for latency_ms, concurrency in series:
                emu.reset()
                emu.latency(latency_ms / 1000)
                result, report, _ = run(launcher, args.binary, env, concurrency, home)
                wall, rss = result["wall"], result["maxrss_kb"] / 1024
                cpu = result["utime"] + result["stime"]
                counts = emu.counts()
                requests = sum(counts["counts"].values())
                emulator_s = sum(r["seconds"] for r in counts["requests"])
                check_swept(report, members, REGIONS, args.rules, violations)
                assumed = counts["counts"].get("sts:AssumeRole", 0)
                if assumed != len(members):
                    fail(f"{assumed} AssumeRole calls for {len(members)} accounts")
                rows.append((latency_ms, concurrency, wall, cpu, rss, requests, assumed, emulator_s,
                             report["rules_evaluated"]))
            floor = launcher.run(["/bin/true"], env, os.devnull, os.devnull)["maxrss_kb"] / 1024
    finally:
        launcher.stop()
        emu.stop()

    print()
    print(f"sweep of {args.accounts} accounts x {len(REGIONS)} regions x {args.rules} rules "
          f"(report only), one `sgguard scan` process per row")
    print(f"{'latency ms':>10}  {'concurrency':>11}  {'wall s':>7}  {'sgguard CPU s':>13}  {'peak RSS MB':>11}  "
          f"{'requests':>8}  {'AssumeRole':>10}  {'emulator API s':>14}  {'rules':>6}")
    for ms, c, wall, cpu, rss, requests, assumed, emulator_s, rules in rows:
        print(f"{ms:>10}  {c:>11}  {wall:>7.2f}  {cpu:>13.2f}  {rss:>11.1f}  {requests:>8}  {assumed:>10}  "
              f"{emulator_s:>14.2f}  {rules:>6}")
    print(f"\npeak RSS: the scan process's high-water mark (the launcher's own floor, measured "
          f"with /bin/true, is {floor:.1f} MB);"
          "\nlatency ms: waited by the proxy before each request (a stand-in for a real endpoint's"
          " network and service time);"
          "\nemulator API s: the sum of moto's time per request (requests overlap when concurrent);"
          "\nsgguard CPU s: user + system time of the scan process (os.wait4).")
    return 0


if __name__ == "__main__":
    exit_with("bench_sweep", main)
