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

sgguard's own requests (User-Agent carrying `app/sgguard`, the SDK app name `Aws` sets) are
tallied per action too, for the whole life of the emulator ("sgguard" in /counts, never reset).
When SGGUARD_TALLY_DIR is set, the emulator writes them on exit to
$SGGUARD_TALLY_DIR/emulator-<pid>-<random>.json as {"sgguard": {action: count}}: the IAM tally
check (python -m sgguard_world.iam_check) reads them all.

DescribeSecurityGroupRules is paginated as AWS does it (moto ignores MaxResults): a request
with MaxResults gets at most that many rules and a NextToken for the rest.

Each logged request's "access_key" is the access key id it was signed with ("" when unsigned),
and "account" the account whose role an AssumeRole through the proxy issued that key for (else
null).
Each logged request's "seconds" (float) is the wall time the proxy spent forwarding it to moto
and reading moto's full response (connect, send, response headers and body): the emulator's
own API time, excluding the client's side of the exchange.  0.0 for requests denied by a rule
(never forwarded).
"""

from __future__ import annotations

import argparse
import functools
import http.client
import json
import logging
import os
import re
import signal
import sys
import threading
import time
import uuid
from pathlib import Path
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote_plus, urlsplit
from xml.etree import ElementTree
from xml.sax.saxutils import escape as xml_escape

CONTROL_PREFIX = "/_sgguard/"
SGGUARD_APP = "app/sgguard"  # in the User-Agent of every request sgguard's `Aws` makes
MAX_LOGGED_REQUESTS = 10_000  # "requests" log in /counts (counts themselves are unbounded)

# Hop-by-hop headers (RFC 7230 6.1) plus the framing headers we recompute.
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "expect",
}

CREDENTIAL_RE = re.compile(r"Credential=([^,\s]+)")
ACCESS_KEY_RE = re.compile(rb"<AccessKeyId>([^<]+)</AccessKeyId>")
PAGE_TOKEN = "sgguard-page-"
QUERY_NS = {
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "sns": "http://sns.amazonaws.com/doc/2010-03-31/",
    "sqs": "http://queue.amazonaws.com/doc/2012-11-05/",
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
}


def log(msg: str) -> None:
    if os.environ.get("SGGUARD_EMULATOR_DEBUG"):
        sys.stderr.write(f"[emulator] {msg}\n")
        sys.stderr.flush()


class State:
    """Shared counters and deny rules (guarded by one lock)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self.assumed: list[str] = []
        self.requests: list[dict] = []
        self.rules: list[dict] = []
        self.latency = 0.0
        self.key_accounts: dict[str, str] = {}  # access key id -> account, from AssumeRole answers
        self.sgguard: dict[str, int] = {}  # sgguard's own requests per action, never reset
        self.world = None  # the sgguard_world.org.Org built by POST /_sgguard/world
        self.world_lock = threading.Lock()  # held while the world is built (not self.lock)

    def snapshot(self) -> dict:
        with self.lock:
            return {
                "counts": dict(self.counts),
                "assumed": list(self.assumed),
                "requests": list(self.requests),
                "rules": [dict(r) for r in self.rules],
                "sgguard": dict(self.sgguard),
            }

    def reset(self) -> None:
        with self.lock:
            self.counts.clear()
            self.assumed.clear()
            self.requests.clear()

    def add_rule(self, rule: dict) -> None:
        with self.lock:
            self.rules.append(rule)

    def clear_rules(self) -> None:
        with self.lock:
            self.rules.clear()

    def issued(self, access_key: str, account: str) -> None:
        with self.lock:
            self.key_accounts[access_key] = account

    def account_of(self, access_key: str) -> str | None:
        with self.lock:
            return self.key_accounts.get(access_key)

    def record_and_match(self, key: str, role_arn: str | None, body_texts: list[str],
                         by_sgguard: bool = False, access_key: str = "",
                         region: str = "") -> dict | None:
        """Count the request and return the deny rule that fires for it, if any."""
        account = self.account_of(access_key)
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + 1
            if by_sgguard:
                self.sgguard[key] = self.sgguard.get(key, 0) + 1
            if role_arn is not None:
                self.assumed.append(role_arn)
            fired = None
            for rule in self.rules:
                if rule["action"] not in ("*", key):
                    continue
                m = rule.get("match") or ""
                if m and not any(m in t for t in body_texts):
                    continue
                if rule.get("account") and rule["account"] != account:
                    continue
                if rule.get("region") and rule["region"] != region:
                    continue
                fired = dict(rule)
                if rule.get("times") is not None:
                    rule["times"] -= 1
                    if rule["times"] <= 0:
                        self.rules.remove(rule)
                break
            return fired

    def note_result(self, key: str, denied: bool, status: int, seconds: float = 0.0,
                    access_key: str = "") -> None:
        with self.lock:
            if len(self.requests) < MAX_LOGGED_REQUESTS:
                self.requests.append({"action": key, "denied": denied, "status": status,
                                      "seconds": float(seconds), "access_key": access_key,
                                      "account": self.key_accounts.get(access_key)})


def credential_of(headers, query: dict[str, list[str]]) -> str | None:
    """The SigV4 credential scope: AKID/date/region/service/aws4_request."""
    m = CREDENTIAL_RE.search(headers.get("Authorization") or "")
    if m:
        return m.group(1)
    if query.get("X-Amz-Credential"):
        return query["X-Amz-Credential"][0]
    return None


def service_of(headers, query: dict[str, list[str]]) -> str:
    cred = credential_of(headers, query)
    if cred:
        parts = cred.split("/")
        # AKID/date/region/service/aws4_request
        if len(parts) >= 5:
            return parts[-2]
    return "unknown"


@functools.lru_cache(maxsize=None)
def rest_operations(service: str) -> dict[tuple[str, str], str]:
    """(method, path) -> operation, for the operations of a REST service whose request URI is a
    fixed path (botocore's model of the service; empty for a service botocore does not know)."""
    import botocore.session
    from botocore.exceptions import UnknownServiceError

    try:
        model = botocore.session.get_session().get_service_model(service)
    except UnknownServiceError:
        return {}
    if model.protocol not in ("rest-json", "rest-xml"):
        return {}
    out = {}
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = http.get("requestUri", "/").split("?", 1)[0]
        if "{" not in uri:
            out[(http.get("method", "POST"), uri.rstrip("/") or "/")] = name
    return out


def s3_operation(method: str, segs: list[str], headers, query: dict[str, list[str]]) -> str:
    """The S3 operation of a path-style request (/BUCKET or /BUCKET/KEY), as IAM names it."""
    if len(segs) >= 2:
        if method == "PUT":
            return "CopyObject" if headers.get("x-amz-copy-source") else "PutObject"
        return {"GET": "GetObject", "HEAD": "HeadObject", "DELETE": "DeleteObject"}.get(method, method)
    if len(segs) == 1:
        if method == "GET":
            return "ListObjectsV2" if query.get("list-type") else "ListObjects"
        return {"PUT": "CreateBucket", "HEAD": "HeadBucket", "DELETE": "DeleteBucket"}.get(method, method)
    return "ListBuckets" if method == "GET" else method


def action_of(method: str, path: str, headers, query: dict[str, list[str]],
              form: dict[str, list[str]], json_body: dict | None, service: str = "unknown") -> str:
    target = headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1]
    if form.get("Action"):
        return form["Action"][0]
    if query.get("Action"):
        return query["Action"][0]
    segs = [s for s in path.split("/") if s]
    if len(segs) >= 4 and segs[0] == "service" and segs[2] == "operation":
        return segs[3]
    if service == "s3":
        return s3_operation(method, segs, headers, query)
    operation = rest_operations(service).get((method, path.rstrip("/") or "/")) if service != "unknown" else None
    return operation or f"{method} {path}"


def role_arn_of(form: dict[str, list[str]], query: dict[str, list[str]], json_body: dict | None) -> str | None:
    if form.get("RoleArn"):
        return form["RoleArn"][0]
    if query.get("RoleArn"):
        return query["RoleArn"][0]
    if isinstance(json_body, dict) and isinstance(json_body.get("RoleArn"), str):
        return json_body["RoleArn"]
    return None


def error_response(service: str, action: str, key: str, json_protocol: bool,
                   rule: dict) -> tuple[int, dict[str, str], bytes]:
    """Build an AWS-style error for a fired deny rule."""
    status = int(rule.get("status") or 403)
    match = rule.get("match") or ""
    request_id = str(uuid.uuid4())
    code = rule.get("code")
    message = rule.get("message")
    if json_protocol:
        code = code or "AccessDeniedException"
    elif service == "ec2":
        code = code or "UnauthorizedOperation"
    else:
        code = code or "AccessDenied"
    if not message:
        if code in ("Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"):
            message = "Rate exceeded"
        else:
            message = f"User is not authorized to perform: {key} on resource: {match or '*'}"
    headers = {"x-amzn-RequestId": request_id}
    if json_protocol:
        body = json.dumps({"__type": code, "message": message}).encode()
        headers["Content-Type"] = "application/x-amz-json-1.1"
        headers["x-amzn-ErrorType"] = code
    elif service == "ec2":
        body = (
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            f"<Response><Errors><Error><Code>{xml_escape(code)}</Code>"
            f"<Message>{xml_escape(message)}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        ).encode()
        headers["Content-Type"] = "text/xml;charset=UTF-8"
    else:
        ns = QUERY_NS.get(service, f"https://{service}.amazonaws.com/doc/")
        err_type = "Receiver" if status >= 500 else "Sender"
        body = (
            f"<ErrorResponse xmlns=\"{ns}\"><Error><Type>{err_type}</Type>"
            f"<Code>{xml_escape(code)}</Code><Message>{xml_escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        headers["Content-Type"] = "text/xml"
    return status, headers, body


def page_of_rules(body: bytes, max_results: int, token: str) -> bytes:
    """One page of a DescribeSecurityGroupRules answer, as AWS pages it: the rules from the
    token's offset, at most `max_results`, and a nextToken when more are left."""
    root = ElementTree.fromstring(body)
    ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    name = (lambda local: f"{{{ns}}}{local}") if ns else (lambda local: local)
    start = int(token[len(PAGE_TOKEN):]) if token else 0
    rule_set = root.find(name("securityGroupRuleSet"))
    items = list(rule_set) if rule_set is not None else []
    for item in items[:start] + items[start + max_results:]:
        rule_set.remove(item)
    for old in root.findall(name("nextToken")):
        root.remove(old)
    if start + max_results < len(items):
        ElementTree.SubElement(root, name("nextToken")).text = f"{PAGE_TOKEN}{start + max_results}"
    ElementTree.register_namespace("", ns)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sgguard-emulator"
    sys_version = ""
    timeout = 120  # idle keep-alive connections are dropped after this
    # Headers and body go out in two writes: with Nagle on, the body would wait ~40 ms for the
    # client's delayed ACK on every reused connection.
    disable_nagle_algorithm = True

    # set on the class by make_proxy()
    state: State
    upstream: tuple[str, int]

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        log(format % args)

    # -- plumbing ---------------------------------------------------------
    def _read_body(self) -> bytes:
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    break
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    # trailers until blank line
                    while True:
                        t = self.rfile.readline(65537)
                        if t in (b"\r\n", b"\n", b""):
                            break
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)  # CRLF after chunk
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length <= 0:
            return b""
        buf = bytearray()
        while len(buf) < length:
            part = self.rfile.read(min(length - len(buf), 1 << 20))
            if not part:
                break
            buf += part
        return bytes(buf)

    def _send(self, status: int, headers: dict[str, str] | list[tuple[str, str]], body: bytes,
              head_only: bool = False, content_length: str | None = None) -> None:
        self.send_response(status)
        items = headers.items() if isinstance(headers, dict) else headers
        for k, v in items:
            self.send_header(k, v)
        no_body = status in (204, 304) or status < 200
        if not no_body:
            self.send_header("Content-Length", content_length if content_length is not None else str(len(body)))
        self.end_headers()
        if not head_only and not no_body and body:
            self.wfile.write(body)
        self.wfile.flush()

    def _send_json(self, status: int, obj) -> None:
        self._send(status, {"Content-Type": "application/json"}, json.dumps(obj).encode())

    # -- dispatch ---------------------------------------------------------
    def _handle(self) -> None:
        body = self._read_body()
        if self.path.startswith(CONTROL_PREFIX):
            self._control(body)
            return
        try:
            self._proxy(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _handle

    def _control(self, body: bytes) -> None:
        path = urlsplit(self.path).path[len(CONTROL_PREFIX):].strip("/")
        st = self.state
        if path == "counts" and self.command == "GET":
            self._send_json(200, st.snapshot())
        elif path == "reset" and self.command == "POST":
            st.reset()
            self._send_json(200, {"ok": True})
        elif path == "allow" and self.command == "POST":
            st.clear_rules()
            self._send_json(200, {"ok": True})
        elif path == "latency" and self.command == "POST":
            try:
                seconds = float(json.loads(body or b"{}").get("seconds", 0.0))
                if not 0.0 <= seconds <= 10.0:
                    raise ValueError("'seconds' must be between 0 and 10")
            except (ValueError, TypeError, AttributeError) as e:
                self._send_json(400, {"error": str(e)})
                return
            st.latency = seconds
            self._send_json(200, {"ok": True, "latency": seconds})
        elif path == "deny" and self.command == "POST":
            try:
                spec = json.loads(body or b"{}")
                if not isinstance(spec, dict) or not isinstance(spec.get("action"), str):
                    raise ValueError("'action' (string) is required")
                rule = {"action": spec["action"], "match": str(spec.get("match") or "")}
                if spec.get("account") is not None:
                    rule["account"] = str(spec["account"])
                if spec.get("region") is not None:
                    rule["region"] = str(spec["region"])
                if spec.get("code") is not None:
                    rule["code"] = str(spec["code"])
                if spec.get("message") is not None:
                    rule["message"] = str(spec["message"])
                if spec.get("status") is not None:
                    rule["status"] = int(spec["status"])
                if spec.get("times") is not None:
                    rule["times"] = int(spec["times"])
                    if rule["times"] <= 0:
                        raise ValueError("'times' must be positive")
            except (ValueError, TypeError) as e:
                self._send_json(400, {"error": str(e)})
                return
            st.add_rule(rule)
            self._send_json(200, {"ok": True, "rule": rule})
        elif path in ("world", "credentials", "inbox") and self.command == "POST":
            self._world(path, body)
        else:
            self._send_json(404, {"error": f"unknown control endpoint {self.command} {self.path}"})

    def _world(self, path: str, body: bytes) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        from .org import WorldError, build

        st = self.state
        try:
            spec = json.loads(body or b"{}")
            if not isinstance(spec, dict):
                raise WorldError("the request body must be a JSON object")
            if path == "world":
                with st.world_lock:
                    if st.world is not None:
                        self._send_json(409, {"error": "this emulator already holds a world"})
                        return
                    st.world = build("http://%s:%d" % self.upstream, spec)
                self._send_json(200, st.world.describe())
                return
            if st.world is None:
                self._send_json(409, {"error": "no world yet: POST /_sgguard/world first"})
                return
            if path == "credentials":
                if not isinstance(spec.get("account"), str):
                    raise WorldError("'account' (string) is required")
                credentials = st.world.credentials(spec["account"], spec.get("role") or "OrganizationAccountAccessRole")
                self._send_json(200, {k: credentials[k] for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")})
            else:
                self._send_json(200, {"messages": st.world.inbox()})
        except (ValueError, KeyError, TypeError, WorldError) as e:
            self._send_json(400, {"error": repr(e)})
        except (BotoCoreError, ClientError) as e:
            self._send_json(500, {"error": repr(e)})

    def _proxy(self, body: bytes) -> None:
        split = urlsplit(self.path)
        query = parse_qs(split.query, keep_blank_values=True)
        ctype = (self.headers.get("Content-Type") or "").lower()
        form: dict[str, list[str]] = {}
        json_body = None
        text = body.decode("utf-8", "replace") if body else ""
        if body and ("x-www-form-urlencoded" in ctype or (not ctype and b"Action=" in body)):
            form = parse_qs(text, keep_blank_values=True)
        elif body and "json" in ctype:
            try:
                json_body = json.loads(text)
            except ValueError:
                json_body = None
        service = service_of(self.headers, query)
        action = action_of(self.command, split.path, self.headers, query, form, json_body, service)
        key = f"{service}:{action}"
        role_arn = role_arn_of(form, query, json_body) if key == "sts:AssumeRole" else None
        texts = [text, unquote_plus(text)] if text else [""]
        agent = f"{self.headers.get('User-Agent') or ''} {self.headers.get('X-Amz-User-Agent') or ''}"
        scope = (credential_of(self.headers, query) or "").split("/")
        access_key = scope[0]
        # The signing region (Credential=KEY/DATE/REGION/SERVICE/aws4_request).
        region = scope[2] if len(scope) > 2 else ""
        rule = self.state.record_and_match(key, role_arn, texts, SGGUARD_APP in agent.split(),
                                           access_key, region)
        page = None
        if rule is None and key == "ec2:DescribeSecurityGroupRules" and form.get("MaxResults"):
            token = (form.get("NextToken") or [""])[0]
            try:
                page = (int(form["MaxResults"][0]), token)
                if token and not token[len(PAGE_TOKEN):].isdigit():
                    raise ValueError(token)
            except ValueError:
                rule = {"code": "InvalidParameterValue", "status": 400,
                        "message": f"invalid MaxResults or NextToken `{token}`"}
        if rule is not None:
            status, headers, err = error_response(
                service, action, key, bool(self.headers.get("X-Amz-Target")), rule)
            log(f"DENY {key} -> {status} {rule}")
            self.state.note_result(key, True, status, 0.0, access_key)
            self._send(status, headers, err, head_only=self.command == "HEAD")
            return

        if self.state.latency:
            time.sleep(self.state.latency)
        started = time.perf_counter()
        conn = http.client.HTTPConnection(*self.upstream, timeout=300)
        try:
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for k, v in self.headers.items():
                if k.lower() in HOP_BY_HOP:
                    continue
                conn.putheader(k, v)
            if body or self.command in ("POST", "PUT", "PATCH"):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body if body else None)
            resp = conn.getresponse()
            rbody = resp.read()
            status = resp.status
            rheaders = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
            clen = (resp.getheader("Content-Length") or "0") if self.command == "HEAD" else None
        except (OSError, http.client.HTTPException) as e:
            status, clen = 502, None
            rheaders = [("Content-Type", "text/plain")]
            rbody = f"sgguard emulator: upstream error: {e!r}".encode()
        finally:
            conn.close()
        seconds = time.perf_counter() - started
        if status == 200 and role_arn and key == "sts:AssumeRole":
            issued = ACCESS_KEY_RE.search(rbody)
            arn = role_arn.split(":")
            if issued and len(arn) > 4:
                self.state.issued(issued.group(1).decode(), arn[4])
        if status == 200 and page is not None:
            rbody = page_of_rules(rbody, *page)
        self.state.note_result(key, False, status, seconds, access_key)
        log(f"{self.command} {key} -> {status}")
        self._send(status, rheaders, rbody, head_only=self.command == "HEAD", content_length=clen)


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


def make_proxy(port: int, upstream: tuple[str, int], state: State) -> ThreadingHTTPServer:
    handler = type("BoundProxyHandler", (ProxyHandler,), {"state": state, "upstream": upstream})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    return server


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
