"""The Pulumi program: load and validate the config, build the stack, export the outputs.

Every invalid config value fails here, before any resource is registered (tap.config).
The outputs are exactly tap.outputs.OUTPUTS (docs/design.md's outputs contract), in its order.
"""

import pulumi

from tap import config
from tap.stack import TapStack, TapStackArgs

stack_config = config.load()
stack = TapStack("tap", TapStackArgs(config=stack_config, stack_name=pulumi.get_stack()))
for output_name, value in stack.outputs().items():
    pulumi.export(output_name, value)
