"""Domain layer: the API's custom domain name (``tap:domain``).

With ``zoneId`` the stack requests an ACM certificate, writes its DNS validation record in
that Route 53 zone, waits for the certificate to be issued, and points alias A and AAAA
records at the API Gateway domain. With ``certificateArn`` it uses that certificate and
leaves DNS to the owner. Either way the domain name uses TLS 1.2 and maps to the
``$default`` stage (docs/http-api.md rule 64).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

SECURITY_POLICY = "TLS_1_2"
ENDPOINT_TYPE = "REGIONAL"
# dualstack: the domain answers over IPv6 too, so the AAAA alias has somewhere to point.
IP_ADDRESS_TYPE = "dualstack"
VALIDATION_RECORD_TTL = 300


def _first(options: Any, attribute: str) -> str:
    """An attribute of the certificate's one domain validation option."""
    if not options:
        raise ValueError("the certificate reported no domain validation option")
    return str(getattr(options[0], attribute))


def _required(value: str | None, name: str) -> str:
    """A computed attribute AWS always reports once the domain name exists."""
    if value is None:
        raise ValueError(f"the API Gateway domain name reported no {name}")
    return value


@dataclass(frozen=True)
class CustomDomainArgs:
    domain_name: str
    api_id: pulumi.Input[str]
    stage: pulumi.Input[str]
    """The stage the domain maps to (the ``$default`` stage's name)."""
    zone_id: str | None = None
    certificate_arn: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


class CustomDomain(pulumi.ComponentResource):
    """Certificate (when the stack issues it), domain name, API mapping, DNS records."""

    certificate: aws.acm.Certificate | None
    validation_record: aws.route53.Record | None
    validation: aws.acm.CertificateValidation | None
    domain: aws.apigatewayv2.DomainName
    mapping: aws.apigatewayv2.ApiMapping
    records: list[aws.route53.Record]
    url: str

    def __init__(
        self, name: str, args: CustomDomainArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("tap:domain:CustomDomain", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        self.certificate = self.validation_record = self.validation = None
        certificate_arn: pulumi.Input[str]
        if args.zone_id is not None:
            self.certificate = aws.acm.Certificate(
                f"{name}-certificate",
                domain_name=args.domain_name,
                validation_method="DNS",
                tags=tags,
                opts=child,
            )
            options = self.certificate.domain_validation_options
            self.validation_record = aws.route53.Record(
                f"{name}-validation-record",
                zone_id=args.zone_id,
                name=options.apply(lambda o: _first(o, "resource_record_name")),
                type=options.apply(lambda o: _first(o, "resource_record_type")),
                records=[options.apply(lambda o: _first(o, "resource_record_value"))],
                ttl=VALIDATION_RECORD_TTL,
                # ACM gives the same record for the same name: a re-issued certificate
                # reuses it instead of failing on "already exists".
                allow_overwrite=True,
                opts=child,
            )
            # Waits until ACM reports the certificate ISSUED (the provider's default
            # timeout is 75 minutes); the domain name is created only then.
            self.validation = aws.acm.CertificateValidation(
                f"{name}-certificate-validation",
                certificate_arn=self.certificate.arn,
                validation_record_fqdns=[self.validation_record.fqdn],
                opts=child,
            )
            certificate_arn = self.validation.certificate_arn
        else:
            assert args.certificate_arn is not None  # config: exactly one of the two
            certificate_arn = args.certificate_arn
        self.domain = aws.apigatewayv2.DomainName(
            f"{name}-domain-name",
            domain_name=args.domain_name,
            domain_name_configuration=aws.apigatewayv2.DomainNameDomainNameConfigurationArgs(
                certificate_arn=certificate_arn,
                endpoint_type=ENDPOINT_TYPE,
                security_policy=SECURITY_POLICY,
                ip_address_type=IP_ADDRESS_TYPE,
            ),
            tags=tags,
            opts=child,
        )
        self.mapping = aws.apigatewayv2.ApiMapping(
            f"{name}-api-mapping",
            api_id=args.api_id,
            domain_name=self.domain.id,
            stage=args.stage,
            opts=child,
        )
        self.records = []
        if args.zone_id is not None:
            target = self.domain.domain_name_configuration
            alias = aws.route53.RecordAliasArgs(
                name=target.apply(lambda c: _required(c.target_domain_name, "target_domain_name")),
                zone_id=target.apply(lambda c: _required(c.hosted_zone_id, "hosted_zone_id")),
                evaluate_target_health=False,
            )
            for record_type in ("A", "AAAA"):
                self.records.append(
                    aws.route53.Record(
                        f"{name}-alias-{record_type.lower()}",
                        zone_id=args.zone_id,
                        name=args.domain_name,
                        type=record_type,
                        aliases=[alias],
                        opts=child,
                    )
                )
        self.url = f"https://{args.domain_name}/"
        self.register_outputs({"url": self.url})
