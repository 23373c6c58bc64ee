"""Cognito: the user pool and its app client (tap:auth type cognito)."""

from __future__ import annotations

from typing import Any

from tap import engine
from tap.local.deploy.appliers.base import Context, applies, as_int, name_of


@applies(
    engine.USER_POOL,
    "adminCreateUserConfig",
    "mfaConfiguration",
    "name",
    "passwordPolicy",
    "softwareTokenMfaConfiguration",
    "userPoolAddOns",
    "userPoolTier",
    "usernameConfiguration",
)
def _user_pool(ctx: Context, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = name_of(inputs, logical)
    kwargs: dict[str, Any] = {"PoolName": name, "UserPoolTags": ctx.tags_all}
    policy = inputs.get("passwordPolicy")
    if policy:
        password: dict[str, Any] = {}
        for key, boto_key in (
            ("minimumLength", "MinimumLength"),
            ("temporaryPasswordValidityDays", "TemporaryPasswordValidityDays"),
            ("passwordHistorySize", "PasswordHistorySize"),
        ):
            if key in policy:
                password[boto_key] = as_int(policy[key])
        for key, boto_key in (
            ("requireLowercase", "RequireLowercase"),
            ("requireUppercase", "RequireUppercase"),
            ("requireNumbers", "RequireNumbers"),
            ("requireSymbols", "RequireSymbols"),
        ):
            if key in policy:
                password[boto_key] = bool(policy[key])
        kwargs["Policies"] = {"PasswordPolicy": password}
    if "adminCreateUserConfig" in inputs:
        admin = inputs["adminCreateUserConfig"]
        kwargs["AdminCreateUserConfig"] = {
            "AllowAdminCreateUserOnly": bool(admin.get("allowAdminCreateUserOnly", False))
        }
    if "usernameConfiguration" in inputs:
        kwargs["UsernameConfiguration"] = {
            "CaseSensitive": bool(inputs["usernameConfiguration"].get("caseSensitive", True))
        }
    if "mfaConfiguration" in inputs:
        kwargs["MfaConfiguration"] = inputs["mfaConfiguration"]
    if "userPoolTier" in inputs:
        kwargs["UserPoolTier"] = inputs["userPoolTier"]
    if "userPoolAddOns" in inputs:
        mode = inputs["userPoolAddOns"]["advancedSecurityMode"]
        kwargs["UserPoolAddOns"] = {"AdvancedSecurityMode": mode}
    cognito = ctx.client("cognito-idp")
    pool = cognito.create_user_pool(**kwargs)["UserPool"]
    pool_id = pool["Id"]
    token_mfa = inputs.get("softwareTokenMfaConfiguration")
    if token_mfa:
        cognito.set_user_pool_mfa_config(
            UserPoolId=pool_id,
            SoftwareTokenMfaConfiguration={"Enabled": bool(token_mfa.get("enabled"))},
            MfaConfiguration=inputs.get("mfaConfiguration", "OFF"),
        )
    return pool_id, {
        "name": name,
        "arn": pool["Arn"],
        "endpoint": f"cognito-idp.{ctx.region}.amazonaws.com/{pool_id}",
    }


@applies(
    engine.USER_POOL_CLIENT,
    "accessTokenValidity",
    "enableTokenRevocation",
    "explicitAuthFlows",
    "generateSecret",
    "idTokenValidity",
    "name",
    "preventUserExistenceErrors",
    "refreshTokenValidity",
    "tokenValidityUnits",
    "userPoolId",
)
def _user_pool_client(
    ctx: Context, logical: str, inputs: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    kwargs: dict[str, Any] = {
        "UserPoolId": inputs["userPoolId"],
        "ClientName": name_of(inputs, logical),
        "GenerateSecret": bool(inputs.get("generateSecret", False)),
    }
    for key, boto_key in (
        ("explicitAuthFlows", "ExplicitAuthFlows"),
        ("preventUserExistenceErrors", "PreventUserExistenceErrors"),
        ("enableTokenRevocation", "EnableTokenRevocation"),
    ):
        if key in inputs:
            kwargs[boto_key] = inputs[key]
    for key, boto_key in (
        ("accessTokenValidity", "AccessTokenValidity"),
        ("idTokenValidity", "IdTokenValidity"),
        ("refreshTokenValidity", "RefreshTokenValidity"),
    ):
        if key in inputs:
            kwargs[boto_key] = as_int(inputs[key])
    if "tokenValidityUnits" in inputs:
        units = inputs["tokenValidityUnits"]
        kwargs["TokenValidityUnits"] = {
            boto_key: units[key]
            for key, boto_key in (
                ("accessToken", "AccessToken"),
                ("idToken", "IdToken"),
                ("refreshToken", "RefreshToken"),
            )
            if key in units
        }
    client = ctx.client("cognito-idp").create_user_pool_client(**kwargs)["UserPoolClient"]
    return client["ClientId"], {"clientSecret": client.get("ClientSecret", "")}
