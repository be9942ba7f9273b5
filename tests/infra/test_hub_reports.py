"""The hub module's report bucket and the external exemptions file (hub/*.tf, parsed with
python-hcl2): the bucket encrypted, versioned, private, TLS-only, its reports expiring; its name
validated as S3 names are; the Lambda writing reports only under sweeps/ and reading only the
exemptions object and the distributed sweep's runs."""

from __future__ import annotations

import re

import pytest

from sgguard_world.files import HUB, load_hub_actions
from sgguard_world.policies import hub_lambda_policy, hub_lambda_role_actions, hub_locals, module_files, resources

from static_common import first, hcl_string, hub_outputs, hub_variables, lambda_environment, validation_regex


def test_report_bucket_is_encrypted_versioned_private_tls_only_and_expires_reports():
    res = resources(module_files(HUB))
    locals_ = hub_locals()
    bucket = res[("aws_s3_bucket", "reports")]
    assert "count" not in bucket, "the report bucket is always created"
    assert bucket["bucket"] == "${local.report_bucket_name}"
    assert locals_["report_bucket_name"] == (
        '${coalesce(var.report_bucket_name, replace(lower("${local.function_name}-reports-${local.account_id}-'
        '${local.region}"), "_", "-"))}')
    # Every setting resource of the bucket names it.
    settings = {kind for (kind, name), body in res.items() if name == "reports" and kind.startswith("aws_s3_bucket_")}
    assert settings == {"aws_s3_bucket_ownership_controls", "aws_s3_bucket_public_access_block", "aws_s3_bucket_versioning",
                        "aws_s3_bucket_server_side_encryption_configuration", "aws_s3_bucket_lifecycle_configuration",
                        "aws_s3_bucket_policy"}, settings
    for kind in settings:
        assert res[(kind, "reports")]["bucket"] == "${aws_s3_bucket.reports.id}", kind

    # SSE-KMS with the module's key (the key of the DLQ and the logs), bucket key on.
    sse = first(res[("aws_s3_bucket_server_side_encryption_configuration", "reports")]["rule"])
    assert first(sse["apply_server_side_encryption_by_default"]) == {
        "sse_algorithm": "aws:kms", "kms_master_key_id": "${aws_kms_key.sgguard.arn}"}
    assert sse["bucket_key_enabled"] is True
    assert res[("aws_sqs_queue", "dlq")]["kms_master_key_id"] == "${aws_kms_key.sgguard.arn}"
    # Versioned, no public access, no ACLs.
    assert first(res[("aws_s3_bucket_versioning", "reports")]["versioning_configuration"]) == {"status": "Enabled"}
    block = res[("aws_s3_bucket_public_access_block", "reports")]
    for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
        assert block[flag] is True, flag
    assert first(res[("aws_s3_bucket_ownership_controls", "reports")]["rule"]) == {"object_ownership": "BucketOwnerEnforced"}
    # TLS only.
    policy = res[("aws_s3_bucket_policy", "reports")]["policy"]
    assert ('{Sid = "DenyInsecureTransport", Effect = "Deny", Principal = "*", Action = "s3:*", '
            'Resource = [aws_s3_bucket.reports.arn, "${aws_s3_bucket.reports.arn}/*"], '
            'Condition = {Bool = {"aws:SecureTransport" = "false"}}}') in policy
    assert "Allow" not in policy, "the bucket policy only denies; access comes from IAM"

    # Lifecycle: reports under sweeps/ expire after report_retention_days; for every object,
    # noncurrent versions after 30 days and unfinished uploads after 7.
    lifecycle = res[("aws_s3_bucket_lifecycle_configuration", "reports")]
    rules = {rule["id"]: rule for rule in lifecycle["rule"]}
    assert set(rules) == {"expire-sweep-reports", "clean-up-versions-and-uploads"}
    assert all(rule["status"] == "Enabled" for rule in rules.values())
    reports = rules["expire-sweep-reports"]
    assert first(reports["filter"]) == {"prefix": "${local.report_prefix}"} and locals_["report_prefix"] == "sweeps/"
    assert first(reports["expiration"]) == {"days": "${var.report_retention_days}"}
    everything = rules["clean-up-versions-and-uploads"]
    assert first(everything["filter"]) == {}
    assert first(everything["noncurrent_version_expiration"]) == {"noncurrent_days": 30}
    assert first(everything["abort_incomplete_multipart_upload"]) == {"days_after_initiation": 7}
    # Overlapping filters (sweeps/ and everything): each action in one rule only.
    assert "expiration" not in everything
    assert not {"noncurrent_version_expiration", "abort_incomplete_multipart_upload"} & set(reports)
    assert lifecycle["depends_on"] == ["${aws_s3_bucket_versioning.reports}"]
    retention = hub_variables()["report_retention_days"]
    assert retention["type"] == "number" and retention["default"] == 400
    assert "var.report_retention_days >= 1 && var.report_retention_days <= 3650" in retention["validation"][0]["condition"]

    # The Lambda is told the bucket; the module gives its name and ARN.
    assert "SGGUARD_REPORT_BUCKET = aws_s3_bucket.reports.id" in lambda_environment()
    outputs = hub_outputs()
    assert outputs["report_bucket_name"]["value"] == "${aws_s3_bucket.reports.id}"
    assert outputs["report_bucket_arn"]["value"] == "${aws_s3_bucket.reports.arn}"


@pytest.mark.parametrize("name, valid", [
    ("sgguard-reports-111122223333-eu-west-1", True), ("abc", True), ("a" * 63, True),
    ("ab", False), ("a" * 64, False), ("Reports", False), ("my_reports", False), ("my.reports", False),
    ("-reports", False), ("reports-", False), ("xn--reports", False), ("reports-s3alias", False),
])
def test_report_bucket_name_validation(name: str, valid: bool):
    """Both the variable's validation and the precondition on the effective name (the default
    one too) hold the same S3 rules. Evaluated with Python's re: Terraform's regex() is RE2,
    the same for these patterns."""
    variable = hub_variables()["report_bucket_name"]
    assert variable["default"] is None
    condition = variable["validation"][0]["condition"]
    assert condition.startswith("${var.report_bucket_name == null ? true : (")
    allowed = validation_regex(condition, "var.report_bucket_name")
    reserved = re.search(r'!can\(regex\("((?:[^"\\]|\\.)*)", var\.report_bucket_name\)\)', condition).group(1)
    assert (re.search(allowed, name) is not None and re.search(hcl_string(reserved), name) is None) == valid
    lifecycle = first(resources(module_files(HUB))[("aws_s3_bucket", "reports")]["lifecycle"])
    conditions = [p["condition"] for p in lifecycle["precondition"] if "local.report_bucket_name" in p["condition"]]
    assert len(conditions) == 1, lifecycle
    assert validation_regex(conditions[0], "local.report_bucket_name") == allowed
    assert f'!can(regex("{reserved}", local.report_bucket_name))' in conditions[0]


def test_the_lambda_reads_the_exemptions_file_and_writes_reports_only_under_sweeps():
    """(The distributed sweep's reads of sweeps/runs/: test_hub_sweep.py.)"""
    policy = hub_lambda_policy()
    locals_ = hub_locals()
    assert locals_["exemptions_key"] == "config/exemptions.yaml"
    assert sorted(set(a for a in hub_lambda_role_actions() if a.startswith("s3:"))) == [
        "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"]
    # Writes: under sweeps/ only (no read, list or delete of the reports).
    assert ('{Sid = "WriteSweepReports", Effect = "Allow", Action = "s3:PutObject", '
            'Resource = "${aws_s3_bucket.reports.arn}/${local.report_prefix}*"}') in policy
    # Reads: the exemptions object and nothing else, only with exemptions_enabled.
    assert ('[for s in [{Sid = "ReadExemptions", Effect = "Allow", Action = "s3:GetObject", '
            'Resource = "${aws_s3_bucket.reports.arn}/${local.exemptions_key}"}] : s if var.exemptions_enabled]') in policy
    # ... with the distributed sweep, what it wrote under sweeps/runs/ (test_hub_sweep.py), and
    # with a mode_by_scope, its object (test_hub_lambda.py).
    assert policy.count('"s3:') == 5
    # S3's SSE-KMS on the Lambda's behalf: the role may use the bucket's key.
    assert '{Sid = "UseModuleKey", Effect = "Allow", Action = ["kms:Decrypt", "kms:GenerateDataKey*"], Resource = aws_kms_key.sgguard.arn}' in policy
    assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(load_hub_actions()["for_the_lambda_service"])

    # The Lambda is told where the file is and how long to keep it, only with exemptions_enabled.
    assert ('var.exemptions_enabled ? {SGGUARD_EXEMPTIONS_URI = "s3://${aws_s3_bucket.reports.id}/${local.exemptions_key}", '
            "SGGUARD_EXEMPTIONS_TTL_SECONDS = tostring(var.exemptions_ttl_seconds), "
            "SGGUARD_EXEMPTIONS_MAX_DAYS = tostring(var.exemptions_max_days)} : {}") in lambda_environment()
    variables = hub_variables()
    assert variables["exemptions_enabled"]["default"] is False
    assert variables["exemptions_yaml"]["default"] is None
    ttl = variables["exemptions_ttl_seconds"]
    assert ttl["default"] == 300 and "var.exemptions_ttl_seconds >= 10 && var.exemptions_ttl_seconds <= 3600" in ttl["validation"][0]["condition"]
    max_days = variables["exemptions_max_days"]
    assert max_days["default"] == 365 and "var.exemptions_max_days <= 3650" in max_days["validation"][0]["condition"]
    # Terraform writes the object only when given its content.
    obj = resources(module_files(HUB))[("aws_s3_object", "exemptions")]
    assert obj["count"] == "${var.exemptions_enabled && var.exemptions_yaml != null ? 1 : 0}"
    assert (obj["bucket"], obj["key"], obj["content"], obj["content_type"]) == (
        "${aws_s3_bucket.reports.id}", "${local.exemptions_key}", "${var.exemptions_yaml}", "application/yaml")
    assert (obj["server_side_encryption"], obj["kms_key_id"]) == ("aws:kms", "${aws_kms_key.sgguard.arn}")
