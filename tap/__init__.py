"""tap: a serverless HTTP API on AWS (Lambda behind an API Gateway HTTP API), as a Pulumi program."""

__version__ = "1.0.0"
