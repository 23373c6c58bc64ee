"""ACM and Route 53 (tap:domain): the certificate, its DNS validation, the records, in
moto's stand-in for the configured hosted zone."""

from __future__ import annotations

from typing import Any

from tap import engine
from tap.local.deploy.appliers.base import Context, applies, as_int, tag_list
from tap.local.deploy.resources import DeployError


@applies(engine.CERTIFICATE, "domainName", "validationMethod")
def _certificate(ctx: Context, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    acm = ctx.client("acm")
    kwargs: dict[str, Any] = {
        "DomainName": inputs["domainName"],
        "ValidationMethod": inputs.get("validationMethod", "DNS"),
    }
    if ctx.tags_all:
        kwargs["Tags"] = tag_list(ctx.tags_all)
    arn = acm.request_certificate(**kwargs)["CertificateArn"]
    described = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    options = [
        {
            "domainName": o["DomainName"],
            "resourceRecordName": o["ResourceRecord"]["Name"],
            "resourceRecordType": o["ResourceRecord"]["Type"],
            "resourceRecordValue": o["ResourceRecord"]["Value"],
        }
        for o in described.get("DomainValidationOptions", [])
        if "ResourceRecord" in o
    ]
    return arn, {"arn": arn, "status": described["Status"], "domainValidationOptions": options}


def _moto_zone(ctx: Context, configured: str, record_name: str) -> str:
    """moto's stand-in for the configured hosted zone, created on first use."""
    zone = ctx.zones.get(configured)
    if zone is not None:
        return zone
    apex = ".".join(record_name.rstrip(".").split(".")[-2:])
    created = ctx.client("route53").create_hosted_zone(
        Name=apex, CallerReference=f"tap-local-{configured}"
    )["HostedZone"]["Id"]
    return ctx.zones.setdefault(configured, created.rsplit("/", 1)[-1])


@applies(engine.DNS_RECORD, "aliases", "allowOverwrite", "name", "records", "ttl", "type", "zoneId")
def _record(ctx: Context, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name, type_ = str(inputs["name"]), str(inputs["type"])
    record: dict[str, Any] = {"Name": name, "Type": type_}
    if "aliases" in inputs:
        [alias] = inputs["aliases"]
        record["AliasTarget"] = {
            "HostedZoneId": alias["zoneId"],
            "DNSName": alias["name"],
            "EvaluateTargetHealth": bool(alias.get("evaluateTargetHealth", False)),
        }
    else:
        record["TTL"] = as_int(inputs.get("ttl", 300))
        record["ResourceRecords"] = [{"Value": str(v)} for v in inputs.get("records", [])]
    zone = _moto_zone(ctx, str(inputs["zoneId"]), name)
    action = "UPSERT" if inputs.get("allowOverwrite") else "CREATE"
    ctx.client("route53").change_resource_record_sets(
        HostedZoneId=zone,
        ChangeBatch={"Changes": [{"Action": action, "ResourceRecordSet": record}]},
    )
    fqdn = name.rstrip(".")
    return f"{inputs['zoneId']}_{fqdn}_{type_}", {"fqdn": fqdn}


def _record_names(ctx: Context) -> set[str]:
    route53 = ctx.client("route53")
    zones = ctx.zones.values()
    names: set[str] = set()
    for zone in zones:
        for record in route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]:
            names.add(record["Name"].rstrip(".").lower())
    return names


@applies(engine.CERTIFICATE_VALIDATION, "certificateArn", "validationRecordFqdns")
def _certificate_validation(
    ctx: Context, logical: str, inputs: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """ACM issues a DNS-validated certificate once its CNAME is in the zone (docs/http-api.md
    rule 64); moto never issues, so local mode checks what ACM would wait for."""
    arn = str(inputs["certificateArn"])
    described = ctx.client("acm").describe_certificate(CertificateArn=arn)["Certificate"]
    expected = {
        o["ResourceRecord"]["Name"].rstrip(".").lower()
        for o in described.get("DomainValidationOptions", [])
        if "ResourceRecord" in o
    }
    given = {str(f).rstrip(".").lower() for f in inputs.get("validationRecordFqdns", [])}
    missing = sorted(expected - (given & _record_names(ctx)))
    if missing:
        raise DeployError(
            f"certificate {arn}: its validation record(s) {', '.join(missing)} are not in the "
            "zone, so ACM would never issue it"
        )
    return arn, {"certificateArn": arn}
