"""Local mode: the stack deployed into moto, and its HTTP API served on 127.0.0.1."""
