"""The tap CrossGuard policy pack: ``pulumi preview --policy-pack tap/policy``.

``tap.policy.rules`` declares the rules as plain functions (stdlib only); ``tap.policy.pack``
wires them into pulumi_policy policies; ``tap/policy/__main__.py`` starts the pack. Nothing
here is imported by the stack itself.
"""
