variable "region" {
  description = "Region of the guard (real-time coverage) and of the trail's home."
  type        = string
  default     = "eu-west-1"
}

variable "lambda_zip_path" {
  description = "Path of the Lambda zip (bootstrap + policy.yaml): what `make lambda-zip` writes."
  type        = string
  default     = "../../../dist/sgguard-x86_64.zip"
}

variable "mode" {
  description = "audit or enforce."
  type        = string
  default     = "audit"
}

variable "notification_email" {
  description = "Address that receives sgguard's notifications and alarms."
  type        = string
}
