"""The emulator's HTTP/1.1 proxy in front of moto: forwards, counts and denies AWS requests, and
answers the control API under /_sgguard/ (the contract is sgguard_world.emulator's docstring)."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote_plus, urlsplit

from .aws_protocol import (PAGE_TOKEN, action_of, credential_of, error_response, page_of_rules, role_arn_of,
                           service_of, without_rules)
from .proxy_state import State

CONTROL_PREFIX = "/_sgguard/"
SGGUARD_APP = "app/sgguard"  # in the User-Agent of every request sgguard's `Aws` makes

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
ACCESS_KEY_RE = re.compile(rb"<AccessKeyId>([^<]+)</AccessKeyId>")
ASSUMED_ARN_RE = re.compile(rb"<AssumedRoleUser>.*?<Arn>([^<]+)</Arn>", re.S)
# DynamoDB applies each item operation atomically (a conditional update is checked and written in
# one step); moto reads, checks and writes in several steps without a lock, so two concurrent
# conditional updates can both pass their condition (measured: 51 increments under a limit of
# 50, 16 threads straight on moto). The proxy hands moto DynamoDB's requests one at a time: the
# hub state table's counters hold across concurrent processes here as they do in AWS.
DYNAMODB_ONE_AT_A_TIME = threading.Lock()


def log(msg: str) -> None:
    if os.environ.get("SGGUARD_EMULATOR_DEBUG"):
        sys.stderr.write(f"[emulator] {msg}\n")
        sys.stderr.flush()


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
                for field, kind in (("account", str), ("region", str), ("code", str), ("message", str),
                                    ("status", int), ("times", int)):
                    if spec.get(field) is not None:
                        rule[field] = kind(spec[field])
                if rule.get("times") is not None and rule["times"] <= 0:
                    raise ValueError("'times' must be positive")
            except (ValueError, TypeError) as e:
                self._send_json(400, {"error": str(e)})
                return
            st.add_rule(rule)
            self._send_json(200, {"ok": True, "rule": rule})
        elif path == "lag" and self.command == "POST":
            try:
                spec = json.loads(body or b"{}")
                if not isinstance(spec, dict) or not isinstance(spec.get("rule_id"), str):
                    raise ValueError("'rule_id' (string) is required")
                times = int(spec.get("times", 1))
                if times <= 0:
                    raise ValueError("'times' must be positive")
            except (ValueError, TypeError) as e:
                self._send_json(400, {"error": str(e)})
                return
            st.lag(spec["rule_id"], times)
            self._send_json(200, {"ok": True})
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
        if rule is None and role_arn and key == "sts:AssumeRole":
            rule = self._untrusted(access_key, role_arn)
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
        with DYNAMODB_ONE_AT_A_TIME if service == "dynamodb" else contextlib.nullcontext():
            started = time.perf_counter()
            status, rheaders, rbody, clen = self._forward(body)
            seconds = time.perf_counter() - started
        if status == 200 and role_arn and key == "sts:AssumeRole":
            issued = ACCESS_KEY_RE.search(rbody)
            assumed = ASSUMED_ARN_RE.search(rbody)
            arn = role_arn.split(":")
            if issued and len(arn) > 4:
                self.state.issued(issued.group(1).decode(), arn[4],
                                  assumed.group(1).decode() if assumed else None)
        if status == 200 and key == "ec2:DescribeSecurityGroupRules":
            lagging = self.state.lagging_rules()
            if lagging:
                rbody, hidden = without_rules(rbody, lagging)
                self.state.hid(hidden)
        if status == 200 and page is not None:
            rbody = page_of_rules(rbody, *page)
        self.state.note_result(key, False, status, seconds, access_key)
        log(f"{self.command} {key} -> {status}")
        self._send(status, rheaders, rbody, head_only=self.command == "HEAD", content_length=clen)


    def _untrusted(self, access_key: str, role_arn: str) -> dict | None:
        """The AccessDenied STS gives when the role's trust policy does not let the caller in
        (only in a world built with "trust"), or None."""
        world = self.state.world
        if world is None or not world.trust:
            return None
        why = world.trust_denial(self.state.principal_of(access_key), role_arn)
        return None if why is None else {"action": "sts:AssumeRole", "code": "AccessDenied",
                                         "status": 403, "message": why}

    def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes, str | None]:
        """The request to moto as it came: moto's status, headers, body (and Content-Length of a
        HEAD), or 502 when moto cannot be reached."""
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
            rheaders = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
            clen = (resp.getheader("Content-Length") or "0") if self.command == "HEAD" else None
            return resp.status, rheaders, rbody, clen
        except (OSError, http.client.HTTPException) as e:
            return 502, [("Content-Type", "text/plain")], f"sgguard emulator: upstream error: {e!r}".encode(), None
        finally:
            conn.close()


def make_proxy(port: int, upstream: tuple[str, int], state: State) -> ThreadingHTTPServer:
    handler = type("BoundProxyHandler", (ProxyHandler,), {"state": state, "upstream": upstream})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    return server
