"""IAM: the function's role and its inline policy."""

from __future__ import annotations

from typing import Any

from tap import engine
from tap.local.deploy.appliers.arguments import Arg, Arguments
from tap.local.deploy.appliers.base import Context, applies, as_int, name_of, tag_list

# A removed input is set back to IAM's default (no description, one hour).
role_arguments = Arguments(
    Arg("description", "Description", str, reset=""),
    Arg("maxSessionDuration", "MaxSessionDuration", as_int, reset=3600),
    Arg("permissionsBoundary", "PermissionsBoundary"),
)


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
