#!/usr/bin/env python3
"""AWS emulator for sgguard integration tests: moto + a counting, fault-injecting proxy.

Usage (as a child process of the Rust integration tests, the pytest suites, the demo, the benches):

    python -m sgguard_world.emulator [--no-stdin] [--moto-port N] [--proxy-port N] [--nagle]

Starts moto's server in-process and an HTTP/1.1 proxy in front of it, both on
127.0.0.1 (free ports unless given).  When both listen it prints exactly one
line of JSON to stdout:

    {"moto": "http://127.0.0.1:PORT", "proxy": "http://127.0.0.1:PORT"}

and then blocks until stdin reaches EOF (unless --no-stdin) or SIGTERM/SIGINT
arrives, shuts both servers down and exits 0.

Point the AWS SDK at the proxy URL.  Every request is forwarded unchanged
(method, path, query, headers including Host, body) to moto, and counted per
action as "<service>:<Action>":
  * service: from the SigV4 credential scope (Authorization header, or
    X-Amz-Credential in the query string for presigned requests), else "unknown";
  * action: the part after the last dot of X-Amz-Target (JSON protocols), else
    Action= from the form body or query string (query protocols), else the last
    path segment of an RPCv2-CBOR path (/service/X/operation/Op), else the
    operation botocore's model of the service gives for the method and fixed
    request URI (REST protocols, e.g. RAM's POST /getresourceshareassociations),
    else "<METHOD> <path>".

Control API (on the proxy, never forwarded):
  GET  /_sgguard/counts -> {"counts": {...}, "assumed": [role ARNs of sts:AssumeRole],
                            "requests": [{"action", "denied", "status", "seconds",
                                          "access_key", "account"}...],
                            "rules": [active deny rules]}
  POST /_sgguard/reset  -> zero counts, assumed, requests (rules are kept)
  POST /_sgguard/deny   {"action": "sts:AssumeRole", "match": "arn:...",
                         "account": "123456789012", "region": "eu-west-1",
                         "code": "AccessDenied",
                         "status": 403, "times": N, "message": "..."}
        all keys but "action" optional; "action" may be "*" for any action;
        "match" is searched in the raw and in the URL-decoded body (empty or
        absent matches every request of the action); "account" matches only
        requests signed with credentials that an AssumeRole through this proxy
        issued for a role in that account; "region" matches only requests signed
        for that region (a service control policy that denies a region); without
        "times" the rule stays until /allow.  Rules are checked in the order they
        were added.
  POST /_sgguard/allow  -> clear all rules
  POST /_sgguard/latency {"seconds": 0.05}
        every forwarded request first waits this long (a stand-in for the network and
        service time of a real AWS endpoint; 0 turns it off); not part of "seconds"

The world (built with sgguard_world.org straight on moto: its requests are not counted):
  POST /_sgguard/world  {"members": [...], "ous": [...], "spokes": {...}, "hub_bus": "..."}
        (see sgguard_world.org.build) -> {"hub", "organization_id", "root", "accounts"
        {name: id}, "members" [ids, in order], "ous" {name: id}, "topic_arn", "queue_url",
        "bus_arn", "trigger_queue_url"}; once per emulator (409 after that)
  POST /_sgguard/credentials {"account": "...", "role": "OrganizationAccountAccessRole"}
        -> AssumeRole's {"AccessKeyId", "SecretAccessKey", "SessionToken"}, from the hub
  POST /_sgguard/inbox  -> {"messages": [SNS envelopes]}: the inbox drained, oldest first

EventBridge fidelity: AWS matches a pattern on a field of an array's objects when any element's
field matches (hub/event-pattern.json forwards CreateTags/DeleteTags only when one of
`requestParameters.resourcesSet.items[].resourceId` starts with `sg-`); moto's matcher does not
look inside arrays, so the emulator patches it to (`match_inside_arrays_like_eventbridge`).

IAM fidelity: a role's inline policies created by CloudFormation are answered by GetRolePolicy as
JSON, as AWS does, not as moto's Python repr of them (`inline_policies_from_cloudformation_as_json`).
Prefix-list versions: moto keeps them but has no RestoreManagedPrefixListVersion; the emulator
adds it (`restore_prefix_list_versions`).

sgguard's own requests (User-Agent carrying `app/sgguard`, the SDK app name `Aws` sets) are
tallied per action too, for the whole life of the emulator ("sgguard" in /counts, never reset).
When SGGUARD_TALLY_DIR is set, the emulator writes them on exit to
$SGGUARD_TALLY_DIR/emulator-<pid>-<random>.json as {"sgguard": {action: count}}: the IAM tally
check (python -m sgguard_world.iam_check) reads them all.

DescribeSecurityGroupRules is paginated as AWS does it (moto ignores MaxResults): a request
with MaxResults gets at most that many rules and a NextToken for the rest.

DynamoDB requests are forwarded one at a time: AWS applies each item operation atomically, moto
does not under concurrent requests (a conditional update could pass its condition twice), so the
hub state table's conditional counters hold here as in AWS.

Each logged request's "access_key" is the access key id it was signed with ("" when unsigned),
and "account" the account whose role an AssumeRole through the proxy issued that key for (else
null).
Each logged request's "seconds" (float) is the wall time the proxy spent forwarding it to moto
and reading moto's full response (connect, send, response headers and body): the emulator's
own API time, excluding the client's side of the exchange.  0.0 for requests denied by a rule
(never forwarded).

This module starts moto and the proxy; the proxy is sgguard_world.proxy (its shared state
sgguard_world.proxy_state, what it reads from requests and how it answers sgguard_world.aws_protocol).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import uuid
from pathlib import Path

# The proxy and what it reads and answers, importable from here as before the split.
from .aws_protocol import (  # noqa: F401
    CREDENTIAL_RE,
    PAGE_TOKEN,
    QUERY_NS,
    action_of,
    credential_of,
    error_response,
    page_of_rules,
    rest_operations,
    role_arn_of,
    s3_operation,
    service_of,
)
from .proxy import ACCESS_KEY_RE, CONTROL_PREFIX, HOP_BY_HOP, SGGUARD_APP, ProxyHandler, log, make_proxy  # noqa: F401
from .proxy_state import MAX_LOGGED_REQUESTS, State  # noqa: F401


def match_inside_arrays_like_eventbridge() -> None:
    """moto's EventBridge flattens an event's nested objects for matching, but not the objects in
    its arrays, so a pattern on `requestParameters.resourcesSet.items.resourceId` never matches
    there. AWS flattens them too: each element's fields under the array's key, the pattern
    matching when any element's value does ("Arrays in Amazon EventBridge event patterns").
    This replaces moto's flattening with that one, in this process."""
    from moto.events.models import EventPattern

    def collect(result: dict, key: str, value) -> None:
        if key not in result:
            result[key] = value
            return
        old = result[key] if isinstance(result[key], list) else [result[key]]
        result[key] = old + (value if isinstance(value, list) else [value])

    def flatten(node, prefix: str = "", result: dict | None = None) -> dict:
        result = {} if result is None else result
        if isinstance(node, dict):
            for k, v in node.items():
                key = f"{prefix}.{k}" if prefix else k
                if isinstance(v, dict) and v:
                    flatten(v, key, result)
                elif isinstance(v, list) and any(isinstance(e, dict) for e in v):
                    for element in v:
                        if isinstance(element, dict):
                            flatten(element, key, result)
                        else:
                            collect(result, key, element)
                else:
                    collect(result, key, v)
        return result

    EventPattern._flatten_dict = staticmethod(flatten)


def inline_policies_from_cloudformation_as_json() -> None:
    """moto keeps the inline policies of a role CloudFormation created (`Policies`) as the parsed
    template's dicts, and GetRolePolicy then answers with their Python repr. AWS answers with the
    JSON document (URL-encoded); this stores such a policy as JSON, in this process."""
    from moto.iam.models import Role

    put_policy = Role.put_policy

    def put_policy_as_json(self, policy_name: str, policy_json) -> None:
        if not isinstance(policy_json, str):
            policy_json = json.dumps(policy_json)
        put_policy(self, policy_name, policy_json)

    Role.put_policy = put_policy_as_json
def restore_prefix_list_versions() -> None:
    """moto keeps every version of a managed prefix list (its entries per version) but has no
    RestoreManagedPrefixListVersion, which sgguard calls to undo a shared list's change at the
    source. This adds it as EC2 documents it, in this process: refused unless the list is at
    `CurrentVersion`; the entries of `PreviousVersion` become the list's next version."""
    from moto.core.responses import ActionResult
    from moto.ec2.exceptions import EC2ClientError
    from moto.ec2.models.managed_prefixes import ManagedPrefixListBackend
    from moto.ec2.responses import EC2Response

    def restore(backend, prefix_list_id: str, previous: int, current: int):
        prefix_list = backend.managed_prefix_lists.get(prefix_list_id)
        if prefix_list is None:
            raise EC2ClientError("InvalidPrefixListID.NotFound",
                                 f"The prefix list ID '{prefix_list_id}' does not exist")
        if prefix_list.version != current:
            raise EC2ClientError("PrefixListVersionMismatch",
                                 f"The prefix list is at version {prefix_list.version}, not {current}")
        if not 1 <= previous < current:
            raise EC2ClientError("InvalidParameterValue", f"Version {previous} cannot be restored")
        prefix_list.version += 1
        prefix_list.entries[prefix_list.version] = list(prefix_list.entries.get(previous, []))
        prefix_list.state = "restore-complete"
        return prefix_list

    def respond(response):
        restored = response.ec2_backend.restore_managed_prefix_list_version(
            response._get_param("PrefixListId"),
            int(response._get_param("PreviousVersion")),
            int(response._get_param("CurrentVersion")),
        )
        return ActionResult({"PrefixList": restored})

    ManagedPrefixListBackend.restore_managed_prefix_list_version = restore
    EC2Response.restore_managed_prefix_list_version = respond


def write_tally(state: State) -> None:
    """sgguard's requests of this emulator's life, for the IAM tally check."""
    folder = os.environ.get("SGGUARD_TALLY_DIR")
    if not folder:
        return
    path = Path(folder) / f"emulator-{os.getpid()}-{uuid.uuid4().hex[:8]}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"sgguard": state.snapshot()["sgguard"]}, sort_keys=True) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--moto-port", type=int, default=0)
    ap.add_argument("--proxy-port", type=int, default=0)
    ap.add_argument("--no-stdin", action="store_true",
                    help="do not exit on stdin EOF; wait for SIGTERM/SIGINT only")
    ap.add_argument("--nagle", action="store_true",
                    help="leave Nagle's algorithm on for the proxy's sockets: its answers then wait "
                         "~40 ms for the client's delayed ACK on reused connections (the benches "
                         "show the difference)")
    args = ap.parse_args(argv)

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(k, "testing")

    from moto.server import ThreadedMotoServer

    match_inside_arrays_like_eventbridge()
    inline_policies_from_cloudformation_as_json()
    restore_prefix_list_versions()

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=args.moto_port, verbose=False)
    moto.start()
    moto_host, moto_port = moto.get_host_and_port()

    state = State()
    proxy = make_proxy(args.proxy_port, (moto_host, moto_port), state)
    if args.nagle:
        proxy.RequestHandlerClass.disable_nagle_algorithm = False
    proxy_port = proxy.server_address[1]
    proxy_thread = threading.Thread(target=proxy.serve_forever, name="proxy", daemon=True)
    proxy_thread.start()

    stop = threading.Event()

    def on_signal(signum, frame):  # noqa: ARG001
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    if not args.no_stdin:
        def watch_stdin():
            try:
                while sys.stdin.buffer.read(65536):
                    pass
            except (OSError, ValueError):
                pass
            stop.set()

        threading.Thread(target=watch_stdin, name="stdin", daemon=True).start()

    sys.stdout.write(json.dumps({
        "moto": f"http://127.0.0.1:{moto_port}",
        "proxy": f"http://127.0.0.1:{proxy_port}",
    }) + "\n")
    sys.stdout.flush()

    while not stop.wait(0.5):
        pass

    log("shutting down")
    proxy.shutdown()
    proxy.server_close()
    write_tally(state)
    try:
        moto.stop()
    except Exception as e:  # pragma: no cover - best effort
        log(f"moto stop: {e!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
