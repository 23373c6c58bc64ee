"""tap.local.logs.cloudwatch: the writer, with a recording PutLogEvents in place of moto, its
batches, and the stream names and group ARNs it reads and writes."""

from __future__ import annotations

from typing import Any

from tap.local.logs import cloudwatch
from tap.local.logs.cloudwatch import CloudWatchLogs


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, list[str]]] = []

    def __call__(self, group: str, stream: str, events: list[dict[str, Any]]) -> None:
        self.calls.append((group, stream, [e["message"] for e in events]))


class NoClient:
    """Stream creation is a no-op here; the writer creates each stream once."""

    class exceptions:
        class ResourceAlreadyExistsException(Exception):
            pass

    def __init__(self) -> None:
        self.created: list[tuple[str, str]] = []

    def create_log_group(self, logGroupName: str) -> None:
        pass

    def create_log_stream(self, logGroupName: str, logStreamName: str) -> None:
        self.created.append((logGroupName, logStreamName))


def test_lines_of_one_interval_go_out_in_one_call_per_stream() -> None:
    put, client = Recorder(), NoClient()
    # A long interval: everything below arrives within it, and flush() ends it.
    writer = CloudWatchLogs(lambda: client, put_events=put, flush_interval_s=30.0)
    writer.configure({"fn": "/aws/lambda/fn"}, "/access", "api_$default")
    try:
        for i in range(50):
            writer("fn", f"L{i}", f"line {i}", "function", "2026/11/29/[$LATEST]a")
            writer("fn", f"L{i}", f"line {i}", "function", "2026/11/29/[$LATEST]b")
            writer.access_line(f"access {i}")
        assert writer.flush()
    finally:
        writer.close()

    assert sorted((group, stream, len(lines)) for group, stream, lines in put.calls) == [
        ("/access", "api_$default", 50),
        ("/aws/lambda/fn", "2026/11/29/[$LATEST]a", 50),
        ("/aws/lambda/fn", "2026/11/29/[$LATEST]b", 50),
    ]
    assert len(client.created) == 3
    assert writer.dropped == 0


def test_lines_before_configure_wait_for_their_groups() -> None:
    put, client = Recorder(), NoClient()
    writer = CloudWatchLogs(lambda: client, put_events=put, flush_interval_s=0.01)
    try:
        writer.access_line("early access line")
        writer("fn", None, "INIT_START Runtime Version: python:3.13", "platform", "s")
        assert writer.flush()
        assert put.calls == []  # the groups are not known yet: nothing written, nothing lost

        writer.configure({"fn": "/custom/group"}, "/access", "api_$default")
        assert writer.flush()
    finally:
        writer.close()
    assert sorted(put.calls) == [
        ("/access", "api_$default", ["early access line"]),
        ("/custom/group", "s", ["INIT_START Runtime Version: python:3.13"]),
    ]


def test_a_failing_put_is_counted_and_the_writer_keeps_going() -> None:
    client = NoClient()
    good = Recorder()

    def put(group: str, stream: str, events: list[dict[str, Any]]) -> None:
        if group == "/broken":
            raise ConnectionError("moto is gone")
        good(group, stream, events)

    writer = CloudWatchLogs(lambda: client, put_events=put, flush_interval_s=0.01)
    writer.configure({"bad": "/broken", "ok": "/fine"}, None)
    try:
        writer("bad", None, "lost", "function", "s")
        writer("ok", None, "kept", "function", "s")
        writer.access_line("no access-log group: dropped quietly")
        assert writer.flush()
    finally:
        writer.close()
    assert good.calls == [("/fine", "s", ["kept"])]
    assert writer.dropped == 1
    assert writer.last_error == "ConnectionError: moto is gone"


def test_put_log_events_batches_respect_the_api_limits_and_time_order() -> None:
    big = "x" * 200_000
    events = [{"timestamp": 10 - i % 3, "message": big} for i in range(12)]

    chunks = cloudwatch._chunks(events)

    assert sum(len(c) for c in chunks) == 12
    for chunk in chunks:
        size = sum(len(e["message"]) + cloudwatch.EVENT_OVERHEAD_BYTES for e in chunk)
        assert size <= cloudwatch.MAX_BATCH_BYTES
        assert [e["timestamp"] for e in chunk] == sorted(e["timestamp"] for e in chunk)


def test_lambda_stream_names_and_log_group_arns() -> None:
    assert cloudwatch.lambda_log_stream_name("abc", 1_795_953_600) == "2026/11/29/[$LATEST]abc"
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/x:*"
    assert cloudwatch.log_group_from_arn(arn) == "/aws/apigateway/x"
    assert cloudwatch.log_group_from_arn("arn:aws:s3:::bucket") is None
