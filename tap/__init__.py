"""tap: a serverless HTTP API on AWS (Lambda behind an HTTP API), as a Pulumi program."""

__version__ = "1.0.0"
