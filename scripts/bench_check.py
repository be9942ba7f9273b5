#!/usr/bin/env python3
"""Bench `sgguard check` on a synthetic describe-security-group-rules file of 100,000 rules.

Prints a table of wall time and peak RSS (best and median of several runs) for the release
binary, one core (taskset when available). Usage:

    python3 scripts/bench_check.py [--rules N] [--runs K] [--binary PATH]
"""

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def synthetic_rules(count: int) -> dict:
    rng = random.Random(42)
    ports = [22, 80, 443, 3306, 5432, 8080, 3389, 6379, 9000, 27017]
    rules = []
    for i in range(count):
        group = i // 10
        protocol = rng.choice(["tcp", "tcp", "tcp", "udp", "-1", "icmp"])
        if protocol in ("tcp", "udp"):
            if rng.random() < 0.1:
                from_port, to_port = 1000, 2000
            else:
                from_port = to_port = rng.choice(ports)
        else:
            from_port = to_port = -1
        rule = {
            "SecurityGroupRuleId": f"sgr-{i:017x}",
            "GroupId": f"sg-{group:017x}",
            "GroupOwnerId": f"{100000000000 + group // 100:012d}",
            "IsEgress": rng.random() < 0.2,
            "IpProtocol": protocol,
            "FromPort": from_port,
            "ToPort": to_port,
            "Tags": [],
        }
        kind = rng.randrange(10)
        if kind == 0:
            rule["CidrIpv4"] = "0.0.0.0/0"
        elif kind == 1:
            rule["CidrIpv6"] = "::/0"
        elif kind == 2:
            rule["CidrIpv4"] = "11.0.0.0/9" if i % 2 == 0 else "11.128.0.0/9"
        elif kind == 3:
            rule["CidrIpv6"] = f"2600:{rng.randrange(65536):x}:{rng.randrange(65536):x}::/48"
        elif kind == 4:
            rule["ReferencedGroupInfo"] = {"GroupId": f"sg-{rng.randrange(1 << 60):017x}", "UserId": "111122223333"}
        elif kind == 5:
            rule["PrefixListId"] = "pl-0123456789abcdef0"
        else:
            length = rng.randrange(16, 33)
            addr = rng.randrange(1 << 32) & (((1 << length) - 1) << (32 - length))
            rule["CidrIpv4"] = f"{addr >> 24}.{(addr >> 16) & 255}.{(addr >> 8) & 255}.{addr & 255}/{length}"
        rules.append(rule)
    return {"SecurityGroupRules": rules}


def run_once(command: list) -> tuple:
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024.0, code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    parser.add_argument("--binary", default=os.path.join(target, "release", "sgguard"))
    args = parser.parse_args()
    if not os.path.exists(args.binary):
        print(f"bench_check: `{args.binary}` not found; run `cargo build --release` first", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "rules.json")
        with open(path, "w") as handle:
            json.dump(synthetic_rules(args.rules), handle, indent=1)
        size_mb = os.path.getsize(path) / 1e6
        pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
        rows = []
        for fmt in ("json", "table"):
            command = pin + [args.binary, "check", "--format", fmt, path]
            runs = [run_once(command) for _ in range(args.runs)]
            codes = {code for _, _, code in runs}
            if codes - {0, 1}:
                print(f"bench_check: sgguard exited {codes}", file=sys.stderr)
                return 2
            walls = [wall for wall, _, _ in runs]
            rss = max(peak for _, peak, _ in runs)
            rows.append((fmt, min(walls), statistics.median(walls), rss))
    print(f"sgguard check of a describe-security-group-rules file: {args.rules:,} rules, {size_mb:.1f} MB, "
          f"{args.runs} runs, one core")
    print(f"{'format':<8} {'best wall':>10} {'median wall':>12} {'peak RSS':>10}")
    for fmt, best, median, rss in rows:
        print(f"{fmt:<8} {best * 1000:>8.0f} ms {median * 1000:>9.0f} ms {rss:>7.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
