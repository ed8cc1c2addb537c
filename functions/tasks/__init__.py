"""The task implementations, run by the worker container and by the light lane."""
