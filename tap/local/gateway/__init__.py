"""Local mode's API Gateway: HTTP/1.1 parsing, API Gateway's rules, the HTTP server,
throttling and the JWT authorizer."""
