"""Auth layer: the Cognito user pool and app client behind ``tap:auth = {"type": "cognito"}``,
and the JWT settings (issuer, audiences) the HTTP API's authorizer trusts.

With ``{"type": "jwt"}`` nothing is created here: the issuer and audiences come from the
configuration (an external OIDC provider). API Gateway's JWT authorizer then validates each
token itself (docs/http-api.md rule 60); the function only reads the claims.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

# The app client signs users in with SRP (the password never leaves the client) and renews
# tokens with the refresh token; nothing else (no USER_PASSWORD_AUTH, no admin flows).
EXPLICIT_AUTH_FLOWS = ("ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")
ACCESS_TOKEN_MINUTES = 60
ID_TOKEN_MINUTES = 60
REFRESH_TOKEN_DAYS = 30


def cognito_issuer(region: str, user_pool_id: str) -> str:
    """The ``iss`` of the pool's tokens: ``https://cognito-idp.<region>.amazonaws.com/<id>``.

    The pool's ``endpoint`` attribute is the same without the scheme; the authorizer needs
    the https URL it compares with ``iss`` and fetches the JWKS from.
    """
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


def password_policy() -> aws.cognito.UserPoolPasswordPolicyArgs:
    """NIST SP 800-63B asks for length over composition; Cognito's own default is 8 with
    every class. 12 characters with every class, and a temporary password for 3 days."""
    return aws.cognito.UserPoolPasswordPolicyArgs(
        minimum_length=12,
        require_lowercase=True,
        require_uppercase=True,
        require_numbers=True,
        require_symbols=True,
        temporary_password_validity_days=3,
    )


def threat_protection(production: bool) -> tuple[str, str]:
    """``(user_pool_tier, advanced_security_mode)``.

    Threat protection (formerly "advanced security": compromised credentials, adaptive
    authentication) is a Plus feature plan feature: "To activate this setting, your user
    pool must be on the Plus tier" (Cognito API reference, UserPoolAddOnsType; developer
    guide, "Advanced security with threat protection"). ``user_pool_tier`` is that plan
    (LITE, ESSENTIALS, PLUS in pulumi-aws 7). Production enforces it; other environments
    run Essentials with it off, which costs less.
    """
    return ("PLUS", "ENFORCED") if production else ("ESSENTIALS", "OFF")


@dataclass(frozen=True)
class UserPoolArgs:
    pool_name: str
    client_name: str
    region: str
    production: bool
    tags: Mapping[str, str] = field(default_factory=dict)


class UserPool(pulumi.ComponentResource):
    """A Cognito user pool, users created by an administrator only, and its app client."""

    pool: aws.cognito.UserPool
    client: aws.cognito.UserPoolClient
    issuer: pulumi.Output[str]

    def __init__(
        self, name: str, args: UserPoolArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("tap:auth:UserPool", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tier, security = threat_protection(args.production)
        self.pool = aws.cognito.UserPool(
            f"{name}-pool",
            name=args.pool_name,
            password_policy=password_policy(),
            # An API's users are provisioned, not self-registered.
            admin_create_user_config=aws.cognito.UserPoolAdminCreateUserConfigArgs(
                allow_admin_create_user_only=True
            ),
            username_configuration=aws.cognito.UserPoolUsernameConfigurationArgs(
                case_sensitive=False
            ),
            mfa_configuration="OPTIONAL",
            software_token_mfa_configuration=aws.cognito.UserPoolSoftwareTokenMfaConfigurationArgs(
                enabled=True
            ),
            user_pool_tier=tier,
            user_pool_add_ons=aws.cognito.UserPoolUserPoolAddOnsArgs(
                advanced_security_mode=security
            ),
            tags=dict(args.tags),
            opts=child,
        )
        self.client = aws.cognito.UserPoolClient(
            f"{name}-client",
            name=args.client_name,
            user_pool_id=self.pool.id,
            # A public client (browser, CLI): a secret could not be kept secret there.
            generate_secret=False,
            explicit_auth_flows=list(EXPLICIT_AUTH_FLOWS),
            prevent_user_existence_errors="ENABLED",
            enable_token_revocation=True,
            access_token_validity=ACCESS_TOKEN_MINUTES,
            id_token_validity=ID_TOKEN_MINUTES,
            refresh_token_validity=REFRESH_TOKEN_DAYS,
            token_validity_units=aws.cognito.UserPoolClientTokenValidityUnitsArgs(
                access_token="minutes",  # noqa: S106 (a unit, not a secret)
                id_token="minutes",  # noqa: S106
                refresh_token="days",  # noqa: S106
            ),
            opts=child,
        )
        region = args.region
        self.issuer = self.pool.id.apply(lambda pool_id: cognito_issuer(region, pool_id))
        self.register_outputs(
            {"user_pool_id": self.pool.id, "client_id": self.client.id, "issuer": self.issuer}
        )
