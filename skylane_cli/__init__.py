"""The `skylane` command: the operator's tool for a stack, local or deployed (never in a Lambda package)."""
