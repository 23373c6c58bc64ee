"""Documents the contract (docs/design.md) defines, written out as literals: tests compare what
the stack deploys with these, never with the tap/ functions that build them (a test whose
expected value comes from the code under test passes whatever that code does)."""

from __future__ import annotations

from typing import Any

# The stage's access-log format: one line of JSON (every value quoted: an empty variable
# is "-", which unquoted would break the line), the request id the function's log also
# carries, and no header or query value.
ACCESS_LOG_FIELDS: dict[str, str] = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "sourceIp": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "httpMethod": "$context.httpMethod",
    "path": "$context.path",
    "routeKey": "$context.routeKey",
    "protocol": "$context.protocol",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "integrationStatus": "$context.integrationStatus",
    "integrationError": "$context.integrationErrorMessage",
    # the function's invocation id (Lambda's request id): joins the line with Lambda's REPORT
    "integrationRequestId": "$context.integration.requestId",
    "errorMessage": "$context.error.message",
}
ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","requestTime":"$context.requestTime",'
    '"sourceIp":"$context.identity.sourceIp","userAgent":"$context.identity.userAgent",'
    '"httpMethod":"$context.httpMethod","path":"$context.path",'
    '"routeKey":"$context.routeKey","protocol":"$context.protocol",'
    '"status":"$context.status","responseLength":"$context.responseLength",'
    '"responseLatency":"$context.responseLatency",'
    '"integrationLatency":"$context.integrationLatency",'
    '"integrationStatus":"$context.integrationStatus",'
    '"integrationError":"$context.integrationErrorMessage",'
    '"integrationRequestId":"$context.integration.requestId",'
    '"errorMessage":"$context.error.message"}'
)

# The execution role's trust policy: only the Lambda service assumes it.
TRUST_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "LambdaAssumesThisRole",
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def execution_policy(log_group_arn: str, tracing: str) -> dict[str, Any]:
    """The role's inline policy: log writes on every stream of the function's own group
    (``<group ARN>:*``), and X-Ray writes, which allow no resource scoping
    (docs/http-api.md rule 23), only when tracing is Active."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "WriteOwnLogGroup",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": log_group_arn + ":*",
        }
    ]
    if tracing == "Active":
        statements.append(
            {
                "Sid": "WriteTraces",
                "Effect": "Allow",
                "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                "Resource": "*",
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}
