"""Logging, request ids, metrics, tracing and log search."""
