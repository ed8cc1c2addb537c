"""Lambda functions and the worker container, one package each."""
