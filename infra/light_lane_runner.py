"""``python -m infra.light_lane_runner``: Lambda's SQS event source for the local stack.

moto cannot run Lambda code, so this process long-polls the light queue, builds the exact event
Lambda would, calls LightFunction's handler in-process, and deletes the records not reported as
batch item failures; the others reappear and are redriven to the DLQ as on AWS.
"""

import argparse
import hashlib
import os
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from infra.function_runner import (
    Invoke,
    function_invoker,
    lambda_region,
    physical_name,
    run_until_stopped,
)
from infra.processes import LIGHT_FUNCTION, LIGHT_READY
from infra.schedules import load_template
from skylane.core.aws import client
from skylane.core.limits import SQS_BATCH_LIMIT

# Shorter than the 20 s Lambda uses: a stopping stack never waits long for a receive to end.
LONG_POLL_SECONDS = 5
ERROR_PAUSE_SECONDS = 1.0


@dataclass(frozen=True)
class EventSource:
    """What the function's SQS event says about its queue (template.yaml)."""

    queue_url: str
    queue_arn: str
    region: str
    batch_size: int


@dataclass(frozen=True)
class BatchOutcome:
    received: int
    deleted: int
    failed: list[str]
    error: BaseException | None = None


def sqs_event_batch_size(template: Mapping[str, Any], function: str) -> int:
    """BatchSize of the function's SQS event (10 if it names none, as Lambda defaults)."""
    events = template["Resources"][function]["Properties"].get("Events", {})
    for event in events.values():
        if event.get("Type") == "SQS":
            # One receive answers at most SQS's batch limit, whatever the BatchSize says.
            return min(int(event["Properties"].get("BatchSize", 10)), SQS_BATCH_LIMIT)
    raise ValueError(f"{function} has no SQS event in the template")


def lambda_record(message: Mapping[str, Any], source: EventSource) -> dict[str, Any]:
    """One SQS message as a record of the event Lambda's SQS event source sends."""
    body = message["Body"]
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": body,
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _lambda_message_attribute(value)
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 (SQS's checksum)
        "eventSource": "aws:sqs",
        "eventSourceARN": source.queue_arn,
        "awsRegion": source.region,
    }


def _lambda_message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    # Lambda spells the attribute fields in camel case, with list fields always present.
    return {
        "stringValue": value.get("StringValue"),
        "binaryValue": value.get("BinaryValue"),
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": list(value.get("BinaryListValues", [])),
        "dataType": value["DataType"],
    }


def lambda_event(messages: Sequence[Mapping[str, Any]], source: EventSource) -> dict[str, Any]:
    return {"Records": [lambda_record(message, source) for message in messages]}


def failed_message_ids(answer: Any) -> list[str]:
    """The messageIds of a ReportBatchItemFailures answer."""
    if not isinstance(answer, Mapping):
        return []
    return [
        str(failure["itemIdentifier"])
        for failure in answer.get("batchItemFailures", [])
        if isinstance(failure, Mapping) and "itemIdentifier" in failure
    ]


def receive(sqs: Any, source: EventSource, wait_seconds: int) -> list[dict[str, Any]]:
    answer = sqs.receive_message(
        QueueUrl=source.queue_url,
        MaxNumberOfMessages=source.batch_size,
        WaitTimeSeconds=wait_seconds,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    messages: list[dict[str, Any]] = answer.get("Messages", [])
    return messages


def run_batch(sqs: Any, source: EventSource, invoke: Invoke, wait_seconds: int) -> BatchOutcome:
    """Receive one batch, invoke the function with it, delete what it did not report failed.

    An invocation that raises fails the whole batch, as on AWS: nothing is deleted.
    """
    messages = receive(sqs, source, wait_seconds)
    if not messages:
        return BatchOutcome(received=0, deleted=0, failed=[])
    ids = [message["MessageId"] for message in messages]
    try:
        answer = invoke(lambda_event(messages, source))
    except Exception as error:
        return BatchOutcome(received=len(messages), deleted=0, failed=ids, error=error)
    failed = failed_message_ids(answer)
    done = [message for message in messages if message["MessageId"] not in failed]
    if done:
        sqs.delete_message_batch(
            QueueUrl=source.queue_url,
            Entries=[
                {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                for index, message in enumerate(done)
            ],
        )
    return BatchOutcome(received=len(messages), deleted=len(done), failed=failed)


def describe(outcome: BatchOutcome) -> str:
    line = f"batch of {outcome.received}: {outcome.deleted} done"
    if outcome.failed:
        line += f", left for redelivery: {', '.join(outcome.failed)}"
    if outcome.error is not None:
        line += f" (invocation failed: {outcome.error!r})"
    return line


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m infra.light_lane_runner", description=__doc__)
    parser.add_argument("--stack-name", required=True, help="the local stack's name")
    parser.add_argument("--function", default=LIGHT_FUNCTION, help="the function to invoke")
    parser.add_argument(
        "--wait-seconds",
        type=int,
        default=LONG_POLL_SECONDS,
        help="long poll of each receive (also how long a stop may take)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    region = lambda_region()
    queue_url = os.environ.get("LIGHT_QUEUE_URL", "")
    if not queue_url:
        print("LIGHT_QUEUE_URL is not set: no light queue to poll", file=sys.stderr)
        return 2
    template = load_template()
    sqs = client("sqs")
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    source = EventSource(
        queue_url=queue_url,
        queue_arn=queue_arn,
        region=region,
        batch_size=sqs_event_batch_size(template, args.function),
    )
    invoke = function_invoker(
        template, args.function, physical_name(args.stack_name, args.function), region
    )

    def poll_until_stopped(stop: threading.Event) -> None:
        # A batch under way finishes and its records are deleted or left, then we exit.
        while not stop.is_set():
            try:
                outcome = run_batch(sqs, source, invoke, args.wait_seconds)
            except Exception as error:
                # The emulator away for a moment: poll again, as Lambda's poller does.
                print(f"receive failed, polling again: {error!r}", flush=True)
                stop.wait(ERROR_PAUSE_SECONDS)
                continue
            if outcome.received:
                print(describe(outcome), flush=True)

    return run_until_stopped(
        f"{LIGHT_READY}: polling {queue_url} for {args.function}", poll_until_stopped
    )


if __name__ == "__main__":
    sys.exit(main())
