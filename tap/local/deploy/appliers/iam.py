"""IAM: the function's role and its inline policy."""

from __future__ import annotations

from typing import Any

from tap import engine
from tap.local.deploy.appliers.base import (
    Arg,
    Context,
    applies,
    arguments,
    as_int,
    name_of,
    tag_list,
)

# A removed input is set back to IAM's default (no description, one hour).
_ROLE = (
    Arg("description", "Description", str, reset=""),
    Arg("maxSessionDuration", "MaxSessionDuration", as_int, reset=3600),
    Arg("permissionsBoundary", "PermissionsBoundary"),
)


def role_arguments(inputs: dict[str, Any], keys: frozenset[str] | None = None) -> dict[str, Any]:
    """The role as create_role (``keys`` None) and update_role (the changed ``keys``) take
    it; its trust policy has calls of its own."""
    return arguments(_ROLE, inputs, keys)


@applies(
    engine.IAM_ROLE,
    "assumeRolePolicy",
    "description",
    "maxSessionDuration",
    "name",
    "namePrefix",
    "path",
    "permissionsBoundary",
)
def _role(ctx: Context, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = name_of(inputs, logical)
    kwargs: dict[str, Any] = {
        "RoleName": name,
        "AssumeRolePolicyDocument": inputs["assumeRolePolicy"],
        "Path": inputs.get("path", "/"),
        "Tags": tag_list(ctx.tags_all),
        **role_arguments(inputs),
    }
    role = ctx.client("iam").create_role(**kwargs)["Role"]
    return name, {
        "name": name,
        "arn": role["Arn"],
        "uniqueId": role["RoleId"],
        "createDate": role["CreateDate"].isoformat(),
    }


@applies(engine.IAM_ROLE_POLICY, "name", "namePrefix", "policy", "role")
def _role_policy(ctx: Context, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = name_of(inputs, logical)
    role = str(inputs["role"])
    ctx.client("iam").put_role_policy(
        RoleName=role, PolicyName=name, PolicyDocument=inputs["policy"]
    )
    return f"{role}:{name}", {"name": name}
