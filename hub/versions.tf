terraform {
  # 1.5: `check` blocks and `import` blocks; validations here only reference their own variable.
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.x and 6.x: tests/infra/test_tfschema.py checks every resource against the schemas of
      # hashicorp/aws 5.50.0, 5.99.1 and 6.25.0. aws_lambda_function's `logging_config`: 5.26+.
      # aws_cloudformation_stack_set_instance keeps `region`, the instance's region in both: 6.x
      # deprecates it for `stack_set_instance_region` (absent from 5.x) and warns; 7.0 is to make
      # `region` the provider-wide "where the resource is managed", hence the upper bound.
      version = ">= 5.50, < 7.0"
    }
  }
}
