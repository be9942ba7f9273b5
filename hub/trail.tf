# Optional CloudTrail trail. EventBridge delivers "AWS API Call via CloudTrail" events only
# where a trail logs management events; an organization already having such a trail
# keeps create_trail = false. is_organization_trail = false gives a single-account trail.

resource "aws_s3_bucket" "trail" {
  #checkov:skip=CKV_AWS_18:This bucket only receives CloudTrail logs; access logging it would need a second log bucket, and CloudTrail data events can audit reads if required.
  #checkov:skip=CKV_AWS_144:Cross-region replication needs a second bucket in another region; the trail copy is an audit aid for sgguard, not the organization's system of record.
  #checkov:skip=CKV2_AWS_62:No consumer for object-created notifications: sgguard reads events from EventBridge, not from the log files.
  count         = var.create_trail ? 1 : 0
  bucket        = local.trail_bucket_name
  force_destroy = var.trail_bucket_force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "trail" {
  count  = var.create_trail ? 1 : 0
  bucket = aws_s3_bucket.trail[0].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "trail" {
  count                   = var.create_trail ? 1 : 0
  bucket                  = aws_s3_bucket.trail[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "trail" {
  count  = var.create_trail ? 1 : 0
  bucket = aws_s3_bucket.trail[0].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "trail" {
  count  = var.create_trail ? 1 : 0
  bucket = aws_s3_bucket.trail[0].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.sgguard.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "trail" {
  count  = var.create_trail ? 1 : 0
  bucket = aws_s3_bucket.trail[0].id

  rule {
    id     = "expire-trail-logs"
    status = "Enabled"

    filter {}

    expiration {
      days = var.trail_log_retention_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.trail]
}

resource "aws_s3_bucket_policy" "trail" {
  count  = var.create_trail ? 1 : 0
  bucket = aws_s3_bucket.trail[0].id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "CloudTrailChecksBucketAcl"
        Effect    = "Allow"
        Principal = { Service = "cloudtrail.amazonaws.com" }
        Action    = "s3:GetBucketAcl"
        Resource  = aws_s3_bucket.trail[0].arn
        Condition = { StringEquals = { "aws:SourceArn" = local.trail_arn } }
      },
      {
        Sid       = "CloudTrailWritesLogs"
        Effect    = "Allow"
        Principal = { Service = "cloudtrail.amazonaws.com" }
        Action    = "s3:PutObject"
        # An organization trail writes under AWSLogs/<org id>/ (member accounts) and
        # AWSLogs/<owner account id>/ (the trail's owner: this account, or the management
        # account when a delegated administrator applies this).
        Resource = concat(
          ["${aws_s3_bucket.trail[0].arn}/AWSLogs/${local.trail_owner_account_id}/*"],
          var.is_organization_trail && var.organization_id != null ? ["${aws_s3_bucket.trail[0].arn}/AWSLogs/${var.organization_id}/*"] : [],
        )
        Condition = {
          StringEquals = {
            "aws:SourceArn" = local.trail_arn
            "s3:x-amz-acl"  = "bucket-owner-full-control"
          }
        }
      },
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.trail[0].arn, "${aws_s3_bucket.trail[0].arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })

  depends_on = [aws_s3_bucket_public_access_block.trail]
}

resource "aws_cloudtrail" "sgguard" {
  #checkov:skip=CKV2_AWS_10:sgguard consumes the trail's events through EventBridge; a CloudWatch Logs copy of every management event would only add cost.
  #checkov:skip=CKV_AWS_252:Per-log-file SNS notifications have no consumer; sgguard's notifications go through its own topic.
  count                         = var.create_trail ? 1 : 0
  name                          = local.trail_name
  s3_bucket_name                = aws_s3_bucket.trail[0].id
  kms_key_id                    = aws_kms_key.sgguard.arn
  is_multi_region_trail         = true
  include_global_service_events = true
  is_organization_trail         = var.is_organization_trail
  enable_log_file_validation    = true
  tags                          = var.tags

  event_selector {
    read_write_type           = "All"
    include_management_events = true
  }

  lifecycle {
    precondition {
      condition     = !var.is_organization_trail || var.organization_id != null
      error_message = "An organization trail (is_organization_trail = true) needs organization_id."
    }
    precondition {
      condition     = var.is_organization_trail || var.organization_trail_owner_account_id == null
      error_message = "organization_trail_owner_account_id is for an organization trail: a trail of this account only (is_organization_trail = false) is this account's."
    }
  }

  depends_on = [aws_s3_bucket_policy.trail]
}
