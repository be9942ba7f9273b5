"""What an AWS request names (its service, action, signing key and role) and how AWS answers a
refusal or a page: the emulator's proxy reads requests and writes answers with these."""

from __future__ import annotations

import functools
import json
import re
import uuid
from xml.etree import ElementTree
from xml.sax.saxutils import escape as xml_escape

CREDENTIAL_RE = re.compile(r"Credential=([^,\s]+)")
PAGE_TOKEN = "sgguard-page-"
QUERY_NS = {
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "sns": "http://sns.amazonaws.com/doc/2010-03-31/",
    "sqs": "http://queue.amazonaws.com/doc/2012-11-05/",
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
}


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
        if method == "GET" and query.get("versionId"):
            return "GetObjectVersion"  # IAM authorizes a GetObject of a named version so
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


def without_rules(body: bytes, rule_ids: set[str]) -> tuple[bytes, set[str]]:
    """A DescribeSecurityGroupRules answer without the rules `rule_ids` names, as an eventually
    consistent read that does not show them yet answers; and which of them it held."""
    root = ElementTree.fromstring(body)
    ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    name = (lambda local: f"{{{ns}}}{local}") if ns else (lambda local: local)
    rule_set = root.find(name("securityGroupRuleSet"))
    removed = set()
    for item in list(rule_set) if rule_set is not None else []:
        rule_id = item.findtext(name("securityGroupRuleId"))
        if rule_id in rule_ids:
            rule_set.remove(item)
            removed.add(rule_id)
    if not removed:
        return body, removed
    ElementTree.register_namespace("", ns)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True), removed
