# The hub state table (SGGUARD_STATE_TABLE, docs/configuration.md "The hub state table"): what
# every Lambda instance, sweep worker and CLI run of one hub shares. The circuit breaker's
# counters (per account-hour and per sweep, taken with conditional updates before each revoke),
# the revocation journal (one item per revoked rule: attribution across instances, restore) and
# the CloudTrail eventIDs already handled (a duplicate or replayed event is handled once), and
# the versions of the exemptions file announced (each told to the inbox once, with its difference
# from the one before).
#
# The schema is fixed and documented, so that operators and the tests can create the same
# table: partition key `pk` (S), sort key `sk` (S), TTL attribute `expires_at` (N, epoch
# seconds). Items without `expires_at` never expire. Encrypted with the module's key, on-demand,
# point-in-time recovery on.

locals {
  state_table_name = "${local.function_name}-state"
}

resource "aws_dynamodb_table" "state" {
  name         = local.state_table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  range_key    = "sk"
  tags         = var.tags

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  # DynamoDB deletes an item some time (usually within days) after `expires_at` has passed:
  # sgguard compares `expires_at` with the time itself where it matters (de-duplication).
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  # DynamoDB uses the key on its callers' behalf: the Lambda role may kms:Decrypt with it
  # (iam.tf, UseModuleKey; main.tf, the key policy).
  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.sgguard.arn
  }
}
