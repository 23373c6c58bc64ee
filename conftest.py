"""Hypothesis profiles, chosen by HYPOTHESIS_PROFILE (tox sets `dev`, CI sets `ci`).

`ci` is sized for a 2-core runner that runs the suite on four Pythons within its time
budget: a stack build under mocks takes a few hundred milliseconds, so properties that build
the stack use a fraction of max_examples (see tests/property/).
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "dev",
    max_examples=60,
    deadline=None,
)
settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    derandomize=True,  # the same examples on every run: a CI failure reproduces locally
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
