"""Lambda entry point for the light queue's SQS event source (template.yaml, LightFunction).

Each record is one Celery task message, run with the worker's own tasks (functions/light/lane.py).
Records that must come back are reported as batch item failures, so SQS deletes the rest and
redelivers, then dead-letters, only those.
"""

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.light.lane import LightLane

# Registers every task on the Celery app, exactly as the worker does.
from functions.tasks import celery_tasks
from skylane.core.settings import get_settings
from skylane.observability.logs import logger
from skylane.observability.tracing import traced

# A batch whose every record failed is answered like any other (each record listed), instead
# of failing the invocation: SQS treats both the same, and the answer says which records.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
_lane: LightLane | None = None


def lane() -> LightLane:
    # Built on the first record, not at import: the settings come from the environment.
    global _lane
    if _lane is None:
        _lane = LightLane(celery_tasks.app, get_settings().light_queue_url)
    return _lane


def record_handler(record: SQSRecord) -> str:
    return lane().run(record.raw_event).job_id


def process_batch(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


# Traced like the other functions (X-Ray on Lambda, nothing locally: skylane/observability/tracing.py).
handler = logger.inject_lambda_context(clear_state=True)(traced(process_batch))
