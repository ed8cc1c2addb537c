"""skylane's runtime: what the functions and the worker import. Nothing here imports the CLI or infra."""
