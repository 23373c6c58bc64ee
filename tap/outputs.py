"""The outputs contract (docs/design.md): each stack output's name and what it holds.

``__main__.py`` exports exactly these, in this order (``TapStack.outputs``); the README's
outputs table is rendered from them (``render_outputs_table``).
"""

from __future__ import annotations

OUTPUTS: dict[str, str] = {
    "api_gateway_url": "Invoke URL of the `$default` stage (`https://<id>.execute-api."
    "<region>.amazonaws.com/`); it stops answering when `tap:domain` disables it",
    "lambda_function_name": "Name of the Lambda function",
    "lambda_function_arn": "ARN of the Lambda function",
    "api_gateway_id": "Id of the HTTP API",
    "cloudwatch_log_group": "Name of the function's log group (the one it writes to)",
    "environment_suffix": "The environment (`tap:environment`)",
    "lambda_role_arn": "ARN of the function's execution role",
    "region": "AWS region of every resource (`tap:region`)",
    "memory_size": "Lambda memory in MB (`tap:memorySize`)",
    "timeout": "Lambda timeout in seconds (`tap:timeout`)",
    "runtime": "Lambda runtime (`tap:runtime`)",
    "api_access_log_group": "Name of the API's access-log group",
    "alarm_topic_arn": "ARN of the SNS topic the alarms notify",
    "dashboard_name": "Name of the CloudWatch dashboard",
    "smoke_check": "Result of the post-deploy smoke check (`passed_at`, `attempts`, "
    "`latency_ms`, `checks` each with its `kind`, and `warnings`: the unverified checks that "
    "did not pass, which never fail the deploy); absent when `tap:smokeCheck` is false",
    "user_pool_id": "Id of the Cognito user pool; only with `tap:auth` type `cognito`",
    "user_pool_client_id": "Id of the pool's app client (the tokens' audience); only with "
    "`tap:auth` type `cognito`",
    "issuer": "Issuer the JWT authorizer trusts; only with `tap:auth`",
    "custom_domain_url": "`https://<tap:domain name>/`; only with `tap:domain`",
}


def render_outputs_table() -> str:
    """The README's outputs table, generated from OUTPUTS."""
    rows = ["| output | description |", "|---|---|"]
    rows += [f"| `{name}` | {description} |" for name, description in OUTPUTS.items()]
    return "\n".join(rows)
