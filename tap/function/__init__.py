"""The code that runs in Lambda. Standard library only; never imports infrastructure code.

Deployed as the package ``app`` at the root of the function's zip (handler
``app.handler.handler``); modules import each other relatively, so the same code runs as
``tap.function`` in tests and as ``app`` in Lambda.
"""
