"""The one Celery app: producers send through it by name, the worker registers tasks on it.

Broker: kombu's SQS transport with predefined queues, so no process ever lists or creates a
queue (the template owns them). Results: skylane's own backend over the job table.
"""

from functools import cache

from celery import Celery

from skylane.broker import publish_records
from skylane.broker import transport as sqs_transport
from skylane.core.settings import Settings, get_settings
from skylane.jobs.contracts import TASKS, QueueName
from skylane.jobs.routing import queue_for

POLLING_INTERVAL_SECONDS = 0.1


def predefined_queues(settings: Settings) -> dict[str, dict[str, str]]:
    queues = {
        QueueName.HIGH.value: {"url": settings.high_queue_url},
        QueueName.DEFAULT.value: {"url": settings.default_queue_url},
    }
    if settings.light_queue_url:
        # Producers send light jobs here; the light function re-sends its retries here.
        queues[QueueName.LIGHT.value] = {"url": settings.light_queue_url}
    return queues


def create_celery_app(settings: Settings) -> Celery:
    # kombu's SQS transport, hardened to keep polling through an outage (skylane/broker/transport.py).
    sqs_transport.register()
    app = Celery(
        "skylane",
        broker=f"{sqs_transport.ALIAS}://",
        backend="skylane.broker.backend:JobStoreBackend",
    )
    app.conf.update(
        broker_transport_options={
            "region": settings.aws_region,
            "predefined_queues": predefined_queues(settings),
            # SQS long polling: a receive waits for a message instead of returning empty.
            "wait_time_seconds": settings.sqs_wait_time_seconds,
            # The pause before polling a queue again after an empty receive or while every
            # worker slot is busy. Empty receives already waited the long poll, so a short
            # pause costs no requests; kombu's default of 1 s caps a busy worker at about one
            # job per second per slot.
            "polling_interval": POLLING_INTERVAL_SECONDS,
            # Lets the transport refill the prefetch window in batches (sqs_transport.py).
            sqs_transport.PREFETCH_MULTIPLIER_OPTION: settings.worker_prefetch_multiplier,
            # Each queue's own VisibilityTimeout (template parameter) applies: kombu passes
            # none on receive, and the worker extends it while a job runs.
            "client-config": {
                "connect_timeout": settings.aws_connect_timeout_seconds,
                "read_timeout": max(
                    settings.aws_read_timeout_seconds, settings.sqs_wait_time_seconds + 5
                ),
                "retries": {"mode": "standard", "max_attempts": 3},
            },
        },
        broker_connection_retry_on_startup=True,
        task_default_queue=QueueName.DEFAULT.value,
        # The router's lanes (skylane/jobs/routing.py), so `.delay()` and a chord's parts sent by
        # any code through this app go where skylane's own producers send them.
        task_routes={
            spec.name: {
                "queue": queue_for(spec, light_lane_available=bool(settings.light_queue_url)).value
            }
            for spec in TASKS.values()
        },
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        enable_utc=True,
        timezone="UTC",
        # A job is acknowledged (deleted from SQS) only after it finished; a worker that dies
        # mid-job leaves the message to reappear after the visibility timeout.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # Prefetched messages are unacknowledged like running ones: hidden by the visibility
        # heartbeat while held, back on SQS after the visibility timeout if the worker dies.
        worker_prefetch_multiplier=settings.worker_prefetch_multiplier,
        task_track_started=True,
        # SQS has no broadcast: remote control and events would need queues nobody created.
        worker_enable_remote_control=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
        # The API must answer 503 quickly when SQS is down instead of retrying for seconds.
        task_publish_retry=False,
        worker_hijack_root_logger=False,
    )
    # Jobs sent through this app by any code get a record (skylane/broker/publish_records.py).
    publish_records.connect()
    return app


@cache
def get_celery_app() -> Celery:
    return create_celery_app(get_settings())
