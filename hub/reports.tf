# The report bucket: the full report of every sweep (`sweeps/`, SGGUARD_REPORT_BUCKET; the SNS
# summary only carries the most severe findings), with exemptions_enabled the exemptions file
# (`config/exemptions.yaml`, SGGUARD_EXEMPTIONS_URI) that changes without a new zip, and with a
# mode_by_scope the mode per scope (`config/mode-by-scope.json`, SGGUARD_MODE_BY_SCOPE_URI).
# Encrypted with the module's key, versioned, private, TLS only.

resource "aws_s3_bucket" "reports" {
  #checkov:skip=CKV_AWS_18:The Lambda writes the reports and reads one file; access logging would need a second log bucket, and CloudTrail data events can audit reads if required.
  #checkov:skip=CKV_AWS_144:Cross-region replication needs a second bucket in another region; sweep reports can be produced again by the next sweep, and versioning keeps replaced objects.
  #checkov:skip=CKV2_AWS_62:No consumer for object-created notifications: the sweep's summary goes to the SNS topic, and nothing reacts to a new report.
  bucket        = local.report_bucket_name
  force_destroy = var.report_bucket_force_destroy
  tags          = var.tags

  lifecycle {
    # The default name can be too long or start with '-' (function_name allows it);
    # report_bucket_name itself is validated with the same rules.
    precondition {
      condition = (
        can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", local.report_bucket_name)) &&
        !can(regex("^(xn--|sthree-|amzn-s3-demo-)|(-s3alias|--ol-s3|--x-s3|--table-s3)$", local.report_bucket_name))
      )
      error_message = "The report bucket's name `${local.report_bucket_name}` is not a valid S3 bucket name (3-63 characters of a-z, 0-9 and '-', starting and ending with a letter or digit, no prefix or suffix S3 reserves): set report_bucket_name."
    }
    precondition {
      condition     = var.exemptions_yaml == null || var.exemptions_enabled
      error_message = "exemptions_yaml is set but exemptions_enabled is false: the Lambda would not read it."
    }
  }
}

resource "aws_s3_bucket_ownership_controls" "reports" {
  bucket = aws_s3_bucket.reports.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "reports" {
  bucket                  = aws_s3_bucket.reports.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "reports" {
  bucket = aws_s3_bucket.reports.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "reports" {
  bucket = aws_s3_bucket.reports.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.sgguard.arn
    }
    # One data key per bucket rather than per object: fewer KMS requests.
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "reports" {
  bucket = aws_s3_bucket.reports.id

  rule {
    id     = "expire-sweep-reports"
    status = "Enabled"

    filter {
      prefix = local.report_prefix
    }

    expiration {
      days = var.report_retention_days
    }
  }

  # Every object, the exemptions file included: replaced versions, unfinished uploads. (No
  # Expiration action here: two rules whose filters overlap keep to different actions.)
  rule {
    id     = "clean-up-versions-and-uploads"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.reports]
}

# The role (or user) applying this module: aws:PrincipalArn of its requests is the issuer's
# ARN, not the assumed-role session's that aws_caller_identity gives. The provider reads the
# role's path with iam:GetRole.
data "aws_iam_session_context" "deployer" {
  arn = data.aws_caller_identity.current.arn
}

locals {
  # Who may change the exemptions file (hub/README.md, "Exemptions outside the zip"): the named
  # writers, the applying principal (it writes exemptions_yaml and owns this policy anyway) and
  # the Lambda role (granted only s3:GetObject on it: the exception gives it nothing it could
  # use, and keeps the hub's own principal outside the deny).
  exemptions_writer_arns = distinct(concat(
    var.exemptions_writer_arns,
    [data.aws_iam_session_context.deployer.issuer_arn, aws_iam_role.lambda.arn],
  ))
}

resource "aws_s3_bucket_policy" "reports" {
  bucket = aws_s3_bucket.reports.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.reports.arn, "${aws_s3_bucket.reports.arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
      {
        # An exemption switches the guard off for a rule: only the named writers change the
        # file, whatever IAM grants (an administrator's s3:* included). Deleting the current
        # version of a versioned object brings back the previous file: denied too.
        Sid       = "OnlyNamedWritersChangeExemptions"
        Effect    = "Deny"
        Principal = "*"
        Action    = ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"]
        Resource  = "${aws_s3_bucket.reports.arn}/${local.exemptions_key}"
        Condition = { ArnNotLike = { "aws:PrincipalArn" = local.exemptions_writer_arns } }
      },
    ]
  })

  depends_on = [aws_s3_bucket_public_access_block.reports]
}

# The exemptions file, when Terraform manages it (exemptions_yaml); otherwise whoever
# maintains exemptions uploads it (`aws s3 cp`, hub/README.md "Exemptions outside the zip").
resource "aws_s3_object" "exemptions" {
  count                  = var.exemptions_enabled && var.exemptions_yaml != null ? 1 : 0
  bucket                 = aws_s3_bucket.reports.id
  key                    = local.exemptions_key
  content                = var.exemptions_yaml
  content_type           = "application/yaml"
  server_side_encryption = "aws:kms"
  kms_key_id             = aws_kms_key.sgguard.arn
  tags                   = var.tags

  depends_on = [aws_s3_bucket_server_side_encryption_configuration.reports, aws_s3_bucket_policy.reports]
}

# The mode per scope (mode_by_scope), which the function reads when it starts
# (SGGUARD_MODE_BY_SCOPE_URI): in the environment it would fill Lambda's 4 KB at some 130
# account entries. The function's configuration names the version written here
# (SGGUARD_MODE_BY_SCOPE_VERSION), so that each change of the map publishes a new function
# version that reads it, and a rollback (live_version) reads the map of its own time.
resource "aws_s3_object" "mode_by_scope" {
  count                  = length(var.mode_by_scope) > 0 ? 1 : 0
  bucket                 = aws_s3_bucket.reports.id
  key                    = local.mode_by_scope_key
  content                = jsonencode(var.mode_by_scope)
  content_type           = "application/json"
  server_side_encryption = "aws:kms"
  kms_key_id             = aws_kms_key.sgguard.arn
  tags                   = var.tags

  # Versioning first: the version id is what the function is told to read.
  depends_on = [aws_s3_bucket_versioning.reports, aws_s3_bucket_server_side_encryption_configuration.reports, aws_s3_bucket_policy.reports]
}

# With exemptions_enabled and no exemptions_yaml, whoever approves exemptions uploads the file:
# it must be there before the Lambda is told to read it, or every event would fail until it is.
# Read at plan time (the bucket's name is known then): a missing file fails the plan. The first
# apply of a hub cannot find it (the bucket does not exist yet, and listing it fails): apply
# without exemptions_enabled, upload, then enable; or give exemptions_yaml.
data "aws_s3_objects" "exemptions" {
  count  = var.exemptions_enabled && var.exemptions_yaml == null ? 1 : 0
  bucket = local.report_bucket_name
  prefix = local.exemptions_key

  lifecycle {
    postcondition {
      condition     = contains(self.keys, local.exemptions_key)
      error_message = "exemptions_enabled is true, exemptions_yaml is not set and s3://${local.report_bucket_name}/${local.exemptions_key} does not exist: upload the file first (hub/README.md, \"Exemptions outside the zip\") or set exemptions_yaml."
    }
  }
}
