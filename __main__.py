"""The Pulumi program: load and validate the config, build the stack, export the outputs."""

import dataclasses

import pulumi

from tap import config

stack_config = config.load()
pulumi.export("config", dataclasses.asdict(stack_config))
