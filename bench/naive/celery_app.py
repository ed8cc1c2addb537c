"""The naive port's Celery app: a first app's settings; only the URLs come from AWS (see bench.naive)."""

import os

from celery import Celery

celery_app = Celery(
    "tasks",
    broker=os.getenv("CELERY_BROKER_URL", "sqs://"),
    backend=os.getenv("CELERY_RESULT_BACKEND", "dynamodb://@localhost:8000/celery"),
)

celery_app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    result_serializer="json",
    timezone="UTC",
    enable_utc=True,
    task_track_started=True,
    task_time_limit=300,
)
