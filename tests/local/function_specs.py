"""A function spec from one module's source, for emulator tests and benchmarks that serve
a small handler of their own (``fn.handler``, in a zip as Lambda receives it)."""

from __future__ import annotations

import io
import zipfile

from tap.local.specs import FunctionSpec


def single_function(source: str, name: str = "fn", timeout_s: float = 10) -> FunctionSpec:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("fn.py", source)
    return FunctionSpec(
        name=name,
        arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        zip_bytes=buffer.getvalue(),
        handler="fn.handler",
        runtime="python3.13",
        environment={},
        timeout_s=timeout_s,
        memory_mb=128,
        region="us-east-1",
        log_group=f"/aws/lambda/{name}",
    )
