"""Entry point of the policy pack: the Pulumi CLI runs this file to start the pack.

    pulumi preview --policy-pack tap/policy

Constructing ``PolicyPack`` starts the policy server and blocks, so this file only wires:
the rules live in ``tap/policy/rules/`` and their adaptation in ``tap/policy/pack.py``.
"""

import sys
from pathlib import Path

# The CLI runs this file with the pack's folder (tap/policy) first on sys.path, not the
# repository root: put the root there so the pack always runs the rules of this checkout,
# whether or not tap is installed in the pack's virtualenv.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from tap.policy.pack import PACK_DESCRIPTION, PACK_NAME, policies  # noqa: E402

PolicyPack(
    name=PACK_NAME,
    description=PACK_DESCRIPTION,
    # Each policy sets its own level (mandatory or advisory); this is only the fallback.
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=policies(),
)
