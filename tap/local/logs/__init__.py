"""Local mode's logs: the log sink, CloudWatch Logs in moto, the console and `tap logs`."""
