"""A dynamic resource for the mini program: its ``create`` GETs ``<url>health`` and fails
unless the status is the expected one, so a test sees that local mode really runs it."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import pulumi
import pulumi.dynamic as dynamic


class ProbeProvider(dynamic.ResourceProvider):
    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        try:
            with urllib.request.urlopen(props["url"] + "health", timeout=10) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        if status != int(props["expect_status"]):
            raise RuntimeError(
                f"GET {props['url']}health answered {status}, "
                f"expected {int(props['expect_status'])}"
            )
        return dynamic.CreateResult("probe", {"status": status})


class Probe(dynamic.Resource):
    status: pulumi.Output[int]

    def __init__(
        self,
        name: str,
        url: pulumi.Input[str],
        expect_status: int,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            ProbeProvider(),
            name,
            {"url": url, "expect_status": expect_status, "status": None},
            opts,
        )
