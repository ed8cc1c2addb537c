"""Celery over SQS: the app, the result backend, the SQS transport and its plumbing."""
