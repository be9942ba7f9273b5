"""A small evaluator of deny-only service control policies, for the condition operators sgguard's
SCP uses (StringLike, StringNotLike, ArnLike, ArnNotLike, their ForAnyValue: forms) with IAM's
`*` and `?` wildcards: does a statement deny this request? Not IAM: no Allow, no NotAction or
NotResource, no variables; an unknown operator is an error, never a silent pass."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


def _glob(pattern: str) -> re.Pattern:
    """IAM's wildcards: `*` any run of characters (`/` included), `?` exactly one."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.S)


def string_like(value: str, pattern: str) -> bool:
    return _glob(pattern).fullmatch(value) is not None


def arn_like(value: str, pattern: str) -> bool:
    """ArnLike: the six colon-separated parts matched each on its own (a `*` never crosses `:`)."""
    got, want = value.split(":", 5), pattern.split(":", 5)
    return len(got) == len(want) == 6 and all(string_like(g, w) for g, w in zip(got, want))


def _as_list(v) -> list:
    return v if isinstance(v, list) else [v]


_MATCHERS = {"StringLike": string_like, "ArnLike": arn_like}


def _condition_holds(operator: str, values: list[str] | None, patterns: list[str]) -> bool:
    any_value = operator.startswith("ForAnyValue:")
    base = operator.removeprefix("ForAnyValue:")
    negated = "Not" in base
    matcher = _MATCHERS.get(base.replace("Not", ""))
    if matcher is None:
        raise ValueError(f"operator {operator} is not evaluated here")
    if values is None:
        # A key absent from the request: a negated operator holds, a positive one does not;
        # ForAnyValue over no values never holds.
        return negated and not any_value
    matched = any(matcher(v, p) for v in values for p in patterns)
    if any_value:
        return matched != negated
    if len(values) != 1:
        raise ValueError(f"{operator} on a multivalued key: use ForAnyValue:/ForAllValues:")
    return matched != negated


@dataclass
class Request:
    action: str
    resource: str
    context: dict[str, list[str]] = field(default_factory=dict)


def denying_statements(policy: dict, request: Request) -> list[str]:
    """The Sids of the statements that deny the request."""
    out = []
    for s in policy["Statement"]:
        assert s["Effect"] == "Deny", s.get("Sid")
        if not any(string_like(request.action.lower(), a.lower()) for a in _as_list(s["Action"])):
            continue
        if not any(arn_like(request.resource, r) for r in _as_list(s["Resource"])):
            continue
        conditions = s.get("Condition", {})
        if all(_condition_holds(op, request.context.get(key), _as_list(patterns))
               for op, keys in conditions.items() for key, patterns in keys.items()):
            out.append(s["Sid"])
    return out
