"""The worker container: task implementations and the worker entry point."""
