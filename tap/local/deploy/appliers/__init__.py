"""One applier per resource type: it creates the resource in moto and returns its id and
the outputs the AWS provider computes. A module per AWS service family; base.py holds the
registry (APPLIERS) and what every applier shares."""
