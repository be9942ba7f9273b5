#!/usr/bin/env python3
"""Bench the distributed sweep's worker (`sgguard sweep worker`) against the AWS emulator.

Has the emulator build an organization of ACCOUNTS members in one OU with the spoke StackSet
deployed to it in REGIONS regions, seeds RULES security-group rules in each region of every
member (sgguard_world.bench.seed: one rule in 40 violates the default baseline), creates the
report bucket and the hub state table (hub/state.tf), and then, for each injected latency, runs
the sweep's steps as the hub's state machine does, each a new process (started by the minimal
launcher of sgguard_world.bench, so that CPU time and peak RSS are sgguard's own, from wait4):

    sgguard sweep plan plan.json       {"sgguard": "sweep-plan", "regions": [...], "ous": [OU]}
    sgguard sweep worker worker.json   {"BatchInput": <the plan's batch_input>,
                                        "Items": the next BATCH accounts of its items.json}

one worker after the other, BATCH accounts each (the hub module's `sweep_accounts_per_batch`
is 10). Every run is checked: the plan lists every member; each worker exits 0, answers no
error, makes one AssumeRole per account, and its part (read from S3) has every account swept in
every region, every seeded rule evaluated and exactly the seeded violations found. The table
gives, per latency, the workers' account-regions per second (per worker: its account-regions
over its wall time), CPU per account-region, peak RSS and requests per account-region, and the
requests by action that a model of a real sweep needs.

The processes run with the hub's environment against the emulator: AWS_ENDPOINT_URL (the
proxy), the hub's access key, AWS_REGION, SGGUARD_ROLE_NAME, and what the hub module sets for
the sweep: SGGUARD_REPORT_BUCKET, SGGUARD_STATE_TABLE, SGGUARD_HUB_BUS_ARN and
SGGUARD_TRUSTED_PRINCIPALS. The worker always checks the spokes (tamper protection); with the
StackSet deployed and those two settings it finds every spoke whole, so it makes exactly the
calls it makes in a real organization and reports no error: nothing is left out or counted
twice, and a worker that reports any error fails the bench.

The latency (the proxy's /_sgguard/latency, default 0 and 100 ms) is waited before every request
(a stand-in for a real endpoint's round trip); moto answers one request at a time, so at 0 ms
the wall time is moto's. Report-only (`remediate` false), so every series sees the same rules.
Needs the project venv:

    make release-build && /var/tmp/sgguard-venv/bin/python scripts/bench_worker.py [--accounts 30] \
        [--regions 2] [--rules 40] [--batch 10] [--concurrency N] [--latency-ms 0,100] \
        [--binary PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

from sgguard_world import state_table
from sgguard_world.bench import (BENCH_OU, Launcher, check_swept, child_env, exit_with, fail,
                                 parse_args, seed)
from sgguard_world.control import EmulatorProcess
from sgguard_world.org import HUB_BUS, HUB_LAMBDA_ROLE, HUB_REGION, client

BUCKET = "sgguard-bench-reports"
STATE_TABLE = "sgguard-state"  # the hub module's name for it (function_name-state)
# The regions an account-region count is taken from, in this order (the first two are the other
# benches' regions).
REGIONS = ["us-east-1", "eu-west-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1",
           "sa-east-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "eu-south-1",
           "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1",
           "ap-southeast-2", "ap-east-1", "me-south-1", "af-south-1", "il-central-1",
           "me-central-1", "ap-south-2", "ap-southeast-3", "ap-southeast-4", "eu-central-2",
           "eu-south-2", "ca-west-1", "mx-central-1"]


class Step:
    """One `sgguard sweep <step>` process: its payload in `workdir`, its answer parsed."""

    def __init__(self, launcher: Launcher, binary: str, env: dict, workdir: str) -> None:
        self.launcher, self.binary, self.env, self.workdir = launcher, binary, env, workdir

    def __call__(self, step: str, payload: dict) -> tuple[dict, dict]:
        path = os.path.join(self.workdir, f"{step}.json")
        Path(path).write_text(json.dumps(payload))
        out, err = os.path.join(self.workdir, "out.json"), os.path.join(self.workdir, "err.txt")
        result = self.launcher.run([self.binary, "sweep", step, path], self.env, out, err)
        if result["exit"] != 0:
            fail(f"sweep {step} exited {result['exit']}: {Path(err).read_text()[-2000:]}")
        return result, json.loads(Path(out).read_text())


def series(emu: EmulatorProcess, step: Step, s3, seeded, regions: list[str], rules: int,
           batch: int, concurrency: int | None) -> dict:
    """The plan and every worker at the emulator's current latency, each checked."""
    members = set(seeded.members)
    violations_per_account = seeded.violations // len(members)
    ou = seeded.world["ous"][BENCH_OU]
    emu.reset()
    request = {"sgguard": "sweep-plan", "regions": regions, "ous": [ou]}
    if concurrency:
        request["concurrency"] = concurrency
    plan, planned = step("plan", request)
    plan_counts = emu.counts()["counts"]
    items = json.loads(s3.get_object(Bucket=BUCKET, Key=planned["items_key"])["Body"].read())
    if planned["accounts"] != len(members) or {i["account_id"] for i in items} != members:
        fail(f"the plan listed {planned['accounts']} accounts, not the {len(members)} members")
    workers = []
    for start in range(0, len(items), batch):
        accounts = items[start:start + batch]
        ids = [a["account_id"] for a in accounts]
        emu.reset()
        result, answer = step("worker", {"BatchInput": planned["batch_input"], "Items": accounts})
        counts = emu.counts()["counts"]
        if answer["errors"] or answer["accounts"] != ids:
            fail(f"worker of {ids[0]}…: {answer['errors']} errors, accounts {answer['accounts']}")
        if counts.get("sts:AssumeRole", 0) != len(ids):
            fail(f"{counts.get('sts:AssumeRole', 0)} AssumeRole calls for {len(ids)} accounts")
        part = json.loads(s3.get_object(Bucket=BUCKET, Key=answer["part_key"])["Body"].read())
        check_swept(part, ids, regions, rules, violations_per_account * len(ids))
        workers.append({**result, "accounts": len(ids), "counts": counts})
    return {"plan": plan, "plan_counts": plan_counts, "workers": workers}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=30)
    parser.add_argument("--regions", type=int, default=2, choices=range(1, len(REGIONS) + 1),
                        metavar=f"1..{len(REGIONS)}", help="regions swept in each account")
    parser.add_argument("--rules", type=int, default=40, help="rules per account and region")
    parser.add_argument("--batch", type=int, default=10, help="accounts per worker")
    parser.add_argument("--concurrency", type=int,
                        help="account-regions a worker sweeps at once (the plan payload's "
                             "`concurrency`; default: the binary's, 16)")
    args = parse_args(parser, argv, latency_ms="0,100")
    if args is None:
        return 2
    regions = REGIONS[:args.regions]
    # moto warns of every spoke resource it cannot create (alarms, queue policies): kept apart.
    log_path = os.path.join(tempfile.gettempdir(), "sgguard-bench-worker-emulator.log")
    with open(log_path, "wb") as log:
        emu = EmulatorProcess(stderr=log)
    launcher = Launcher()
    results = []
    try:
        started = time.perf_counter()
        seeded = seed(emu, args.accounts, args.rules, regions, spokes=True)
        print(f"seeded {len(seeded.members)} accounts x {len(regions)} regions x {args.rules} "
              f"rules ({seeded.violations} violations), spokes deployed, in "
              f"{time.perf_counter() - started:.0f} s")
        s3 = client("s3", emu.moto)
        s3.create_bucket(Bucket=BUCKET)
        state_table.create(client("dynamodb", emu.moto), STATE_TABLE)
        hub = seeded.world["hub"]
        with tempfile.TemporaryDirectory() as home:
            env = child_env(emu.proxy, "", home)
            del env["SGGUARD_TOPIC_ARN"]  # the worker publishes nothing (the summary does)
            env.update({
                "SGGUARD_REPORT_BUCKET": BUCKET,
                # The hub module's settings: the role the remediation roles trust (the world's
                # spoke template names it), the bus the forwarding rules send to.
                "SGGUARD_TRUSTED_PRINCIPALS": f"arn:aws:iam::{hub}:role/{HUB_LAMBDA_ROLE}",
                "SGGUARD_HUB_BUS_ARN": f"arn:aws:events:{HUB_REGION}:{hub}:event-bus/{HUB_BUS}",
                # The state every worker shares (each reads an account's held-back rules).
                "SGGUARD_STATE_TABLE": STATE_TABLE,
            })
            step = Step(launcher, args.binary, env, home)
            for latency_ms in (int(ms) for ms in args.latency_ms.split(",")):
                emu.latency(latency_ms / 1000)
                results.append((latency_ms, series(emu, step, s3, seeded, regions, args.rules,
                                                   args.batch, args.concurrency)))
            floor = launcher.run(["/bin/true"], env, os.devnull, os.devnull)["maxrss_kb"] / 1024
    finally:
        launcher.stop()
        emu.stop()

    members = len(seeded.members)
    place = f"{members} accounts x {len(regions)} regions x {args.rules} rules"
    print(f"\nsweep plan, then sweep worker per batch of {args.batch} accounts, one process each, "
          f"one after the other ({place}, report only)")
    print(f"{'latency ms':>10}  {'accounts':>8}  {'acct-regions':>12}  {'workers':>7}  "
          f"{'wall s':>7}  {'acct-regions/s/worker':>21}  {'CPU ms/acct-region':>18}  "
          f"{'peak RSS MB':>11}  {'requests/acct-region':>20}")
    for latency_ms, run in results:
        workers = run["workers"]
        account_regions = members * len(regions)
        wall = sum(w["wall"] for w in workers)
        cpu = sum(w["utime"] + w["stime"] for w in workers)
        rss = max(w["maxrss_kb"] for w in workers) / 1024
        requests = sum(sum(w["counts"].values()) for w in workers)
        print(f"{latency_ms:>10}  {members:>8}  {account_regions:>12}  {len(workers):>7}  "
              f"{wall:>7.2f}  {account_regions / wall:>21.1f}  "
              f"{cpu * 1000 / account_regions:>18.2f}  {rss:>11.1f}  "
              f"{requests / account_regions:>20.2f}")
    print(f"\n{'latency ms':>10}  {'plan wall s':>11}  {'plan CPU ms':>11}  {'plan requests':>13}  "
          f"{'worker wall s (each)':>20}  {'worker CPU ms (each)':>20}")
    for latency_ms, run in results:
        plan, workers = run["plan"], run["workers"]
        walls = " ".join(f"{w['wall']:.2f}" for w in workers)
        cpus = " ".join(f"{(w['utime'] + w['stime']) * 1000:.0f}" for w in workers)
        print(f"{latency_ms:>10}  {plan['wall']:>11.2f}  "
              f"{(plan['utime'] + plan['stime']) * 1000:>11.0f}  "
              f"{sum(run['plan_counts'].values()):>13}  {walls:>20}  {cpus:>20}")
    # The calls are the same at every latency: the last series'.
    latency_ms, run = results[-1]
    by_action = Counter()
    for worker in run["workers"]:
        by_action.update(worker["counts"])
    plan_actions = ", ".join(f"{a} {n}" for a, n in sorted(run["plan_counts"].items()))
    print(f"\nrequests by action, all workers ({len(run['workers'])} processes, {members} "
          f"accounts, {members * len(regions)} account-regions):")
    for action, n in sorted(by_action.items()):
        print(f"  {action:<32} {n:>6}  ({n / members:.2f} per account, "
              f"{n / (members * len(regions)):.2f} per account-region)")
    print(f"plan: {plan_actions}")
    print(f"\nwall s: the workers' wall times added (fork to wait4), one worker at a time;"
          f"\nacct-regions/s/worker: account-regions swept over that time;"
          f"\nCPU ms/acct-region: the workers' user + system time (wait4) over the account-regions,"
          f" process start included;"
          f"\npeak RSS: the largest worker's high-water mark (the launcher's floor, /bin/true, is "
          f"{floor:.1f} MB);"
          f"\nlatency ms: waited by the proxy before each request (moto answers one request at a "
          f"time: the 0 ms wall time is the emulator's floor under every series);"
          f"\nthe emulator's log: {log_path}.")
    return 0


if __name__ == "__main__":
    exit_with("bench_worker", main)
