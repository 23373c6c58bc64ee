"""Local mode's deploy: the program run under mocks that create each resource in moto, its
references checked, what was deployed read back."""
