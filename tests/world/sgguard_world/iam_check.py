"""The IAM tally check: what sgguard really called against what the IAM policies grant.

    python -m sgguard_world.iam_check TALLY_DIR

Every emulator started with SGGUARD_TALLY_DIR writes the actions of sgguard's own requests (the
SDK app name `sgguard` in the User-Agent) to a file in that folder on exit; `make test` runs this
after the Rust integration tests, the pytest suites and the demo. It fails unless
- every action sgguard called is granted: the remediation actions (EC2, RAM) and the forwarding
  rule's reads (`events:`, the sweep's coverage gaps in every account) by the spoke
  remediation role (members) and by the hub Lambda role (the hub's own account), the tamper
  check's reads of the remediation role (the `iam:` actions of
  spoke-infra/remediation-actions.json) by the spoke remediation role only, the others by the
  hub Lambda role, unless
  hub/hub-actions.json lists it under `needs_no_grant`, or under `by_the_operators_role`
  (`sgguard restore` authorizes through a role the operator names, which sgguard's roles must
  never grant);
- every action those roles grant to sgguard was called by some test, or is listed under
  `not_reached_in_the_emulator` with why (the Lambda role's grants that AWS uses on the
  Lambda's behalf, `for_the_lambda_service`: the Lambda service's logs and DLQ, S3's SSE-KMS,
  are not sgguard's calls);
- the action files (spoke-infra/remediation-actions.json + hub/hub-actions.json) list exactly
  the actions called.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .files import load_hub_actions, load_remediation_actions
from .policies import hub_lambda_role_actions, spoke_remediation_role_actions


def called_actions(folder: Path) -> tuple[dict[str, int], int]:
    """The union of the tallies in the folder (action -> requests), and how many files."""
    total: dict[str, int] = {}
    files = sorted(folder.glob("*.json"))
    for path in files:
        for action, count in json.loads(path.read_text())["sgguard"].items():
            total[action] = total.get(action, 0) + count
    return total, len(files)


def problems(called: set[str]) -> list[str]:
    hub = load_hub_actions()
    no_grant, unreached = set(hub["needs_no_grant"]), set(hub["not_reached_in_the_emulator"])
    operators = set(hub["by_the_operators_role"])
    service_grants = set(hub["for_the_lambda_service"])
    member_role, hub_role = set(spoke_remediation_role_actions()), set(hub_lambda_role_actions())
    remediation = set(load_remediation_actions())
    out = []
    spoke_only = {a for a in remediation if a.startswith(("iam:", "securityhub:"))}
    out += [f"{a} is listed as the operator's but a sgguard role grants it"
            for a in sorted(operators & (member_role | hub_role))]
    for action in sorted(called - no_grant - operators):
        if action in spoke_only:
            # The tamper check's reads of the remediation role: member accounts only.
            if action not in member_role:
                out.append(f"{action} is called but the spoke remediation role does not grant it")
        elif action in remediation or action.startswith("ec2:"):
            out += [f"{action} is called but the {name} does not grant it"
                    for name, role in (("spoke remediation role", member_role), ("hub Lambda role", hub_role))
                    if action not in role]
        elif action not in hub_role:
            out.append(f"{action} is called but the hub Lambda role does not grant it")
    for action in sorted((member_role | hub_role) - service_grants - called - unreached):
        out.append(f"{action} is granted but no test made sgguard call it (hub/hub-actions.json: "
                   "`not_reached_in_the_emulator` with why, or a test that reaches it)")
    out += [f"{a} is listed as not reached in the emulator but was called" for a in sorted(unreached & called)]
    out += [f"hub/hub-actions.json `for_the_lambda_service`: {a} is not in the hub Lambda role"
            for a in sorted(service_grants - hub_role)]
    # The operator's actions are no grant of sgguard's: listed whether a test calls them or not.
    listed = set(load_remediation_actions()) | set(hub["granted"]) | no_grant
    if listed - unreached != called - operators:
        out.append(f"the action files list {sorted(listed - unreached - called)} not called, and miss "
                   f"{sorted(called - listed - operators)} called")
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    tallies, files = called_actions(Path(argv[0]))
    if not files:
        print(f"iam_check: no tally in {argv[0]}: did the integration tests run with SGGUARD_TALLY_DIR?",
              file=sys.stderr)
        return 1
    found = problems(set(tallies))
    print(f"iam_check: {len(tallies)} actions called by sgguard in {sum(tallies.values())} requests "
          f"({files} emulators): " + ", ".join(f"{a} x{n}" for a, n in sorted(tallies.items())))
    for problem in found:
        print(f"iam_check: FAILED: {problem}", file=sys.stderr)
    if not found:
        print("iam_check: every called action is granted, every granted action was called")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
