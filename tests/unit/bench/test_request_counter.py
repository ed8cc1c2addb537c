"""The bench's emulator counts each component's requests, and only theirs (bench/emulator.py)."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from bench import emulator as bench_emulator
from bench.emulator import Counter
from infra.emulator import Emulator


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    started = bench_emulator.start(Path(tmp_path_factory.mktemp("emulator")) / "emulator.log")
    yield started
    started.stop()


def client_of(emulator: Emulator, service: str, counter: Counter | None = None) -> Any:
    """A client signing as the counter's component, or as the bench itself."""
    key = counter.access_key if counter else emulator.endpoint.access_key_id
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=emulator.endpoint.url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key="any",
    )


def test_each_components_requests_are_counted_apart_and_the_benchs_not_at_all(
    emulator: Emulator,
) -> None:
    api, worker = Counter(emulator.endpoint, "api"), Counter(emulator.endpoint, "worker")
    bench_sqs = client_of(emulator, "sqs")
    url = bench_sqs.create_queue(QueueName="counted")["QueueUrl"]
    client_of(emulator, "sqs", api).send_message(QueueUrl=url, MessageBody="job")
    worker_sqs = client_of(emulator, "sqs", worker)
    assert worker_sqs.receive_message(QueueUrl=url)["Messages"]
    assert "Messages" not in worker_sqs.receive_message(QueueUrl=url)
    bench_sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])

    assert api.snapshot() == {("sqs", "SendMessage"): 1}
    assert worker.snapshot() == {
        ("sqs", "ReceiveMessage"): 1,
        ("sqs", "ReceiveMessage (empty)"): 1,
    }
    assert set(worker.seconds()) == set(worker.snapshot())

    api.reset()
    assert api.snapshot() == {}
    assert sum(worker.snapshot().values()) == 2


def test_a_metered_components_dynamodb_writes_are_priced_in_units(emulator: Emulator) -> None:
    api = Counter(emulator.endpoint, "metered-api")
    client_of(emulator, "dynamodb").create_table(
        TableName="jobs",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "job_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "job_id", "KeyType": "HASH"}],
    )
    dynamodb = client_of(emulator, "dynamodb", api)
    dynamodb.put_item(TableName="jobs", Item={"job_id": {"S": "before metering"}})

    api.meter(on=True)
    dynamodb.put_item(TableName="jobs", Item={"job_id": {"S": "small"}})
    dynamodb.put_item(TableName="jobs", Item={"job_id": {"S": "big"}, "body": {"S": "x" * 1500}})

    # One unit for the small item, two for 1.5 KB; the write before metering is not priced.
    assert api.units() == {"write": {"table": 3.0}}
    assert api.snapshot() == {("dynamodb", "PutItem"): 3}
    api.meter(on=False)
    assert api.units() == {}
