terraform {
  # 1.5: `check` blocks and `import` blocks; validations here only reference their own variable.
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.x only: aws_cloudformation_stack_set_instance uses `region` (renamed in 6.0) and
      # aws_lambda_function uses `logging_config` (5.26+).
      version = "~> 5.50"
    }
  }
}
