"""The release artifact's numbers: the size of a binary (and of its Lambda zip), and how long the
binary takes to start, as the median and the best wall time of `sgguard --version` and
`sgguard policy show` (start, parse the embedded baseline, print it) over --runs runs each.

    python3 scripts/bench_artifact.py BINARY [--zip dist/sgguard-x86_64.zip] [--runs 10]

Standard library only; the binary must run on this machine (x86_64 here). The table of
docs/performance.md ("The release artifact") is made with it.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

COMMANDS = (["--version"], ["policy", "show"])


def wall_times(binary: str, args: list[str], runs: int) -> list[float]:
    """Seconds per run of `binary args`, its output discarded; one warm-up run first."""
    env = {k: v for k, v in os.environ.items() if k != "SGGUARD_POLICY"}
    times = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        subprocess.run([binary, *args], stdout=subprocess.DEVNULL, check=True, env=env)
        times.append(time.perf_counter() - start)
    return times[1:]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary")
    parser.add_argument("--zip", help="the Lambda zip holding this binary as bootstrap")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)
    print(f"binary: {os.path.getsize(args.binary) / 1e6:.1f} MB ({args.binary})")
    if args.zip:
        print(f"zip: {os.path.getsize(args.zip) / 1e6:.1f} MB ({args.zip})")
    for command in COMMANDS:
        times = wall_times(args.binary, command, args.runs)
        print(
            f"sgguard {' '.join(command)}: median {statistics.median(times) * 1e3:.1f} ms, "
            f"best {min(times) * 1e3:.1f} ms ({args.runs} runs)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
