variable "hub_region" {
  description = "Region of the hub (bus, Lambda, topic)."
  type        = string
  default     = "eu-west-1"
}

variable "lambda_zip_path" {
  description = "Path of the Lambda zip (bootstrap + policy.yaml): what `make lambda-zip` writes."
  type        = string
  default     = "../../../dist/sgguard-x86_64.zip"
}

variable "organization_id" {
  description = "AWS Organizations id (o-...)."
  type        = string
}

variable "ou_ids" {
  description = "OUs whose accounts get the spoke stacks."
  type        = list(string)
}

variable "regions" {
  description = "Regions guarded in real time (spoke rules) and swept; must include hub_region."
  type        = list(string)
  default     = ["eu-west-1", "us-east-1"]
}

variable "notification_emails" {
  description = "Security inbox addresses."
  type        = list(string)
  default     = []
}

variable "audit_trusted_principal_arns" {
  description = "Roles of the organization that may assume the read-only audit role: the one you run `sgguard coverage` and `sgguard scan` with (docs/deploy.md steps 6 and 7), CI, the security team; they must exist when the stacks are created."
  type        = list(string)
  default     = []
}
