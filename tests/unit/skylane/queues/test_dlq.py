import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from skylane.queues.dead_letters import describe, list_dead_letters, redrive
from skylane_cli.dlq import add_dlq_parser, run_dlq


def celery_body(task: str, job_id: str) -> str:
    return json.dumps({"body": "W10=", "headers": {"task": task, "id": job_id}, "properties": {}})


def test_describe_names_the_job_task_and_likely_reason() -> None:
    assert describe("{oops") == (None, None, "not a Celery message: the body is not JSON")
    assert describe('{"a": 1}')[2] == "not a Celery message: no task headers"
    job, task, reason = describe(celery_body("skylane.gone", "j1"))
    assert (job, task) == ("j1", "skylane.gone")
    assert "unknown task" in reason
    assert "died" in describe(celery_body("skylane.send_email", "j2"))[2]


@pytest.fixture
def sqs(aws: dict[str, Any]) -> Any:
    return boto3.client("sqs", region_name="us-east-1")


def test_listing_leaves_every_message_in_place(sqs: Any, aws: dict[str, Any]) -> None:
    dlq = aws["DEFAULT_DLQ_URL"]
    for n in range(13):
        sqs.send_message(QueueUrl=dlq, MessageBody=celery_body("skylane.gone", f"j{n}"))

    first = list_dead_letters(sqs, dlq)
    second = list_dead_letters(sqs, dlq)

    assert sorted(letter.job_id or "" for letter in first) == sorted(f"j{n}" for n in range(13))
    assert {letter.message_id for letter in second} == {letter.message_id for letter in first}


def test_redrive_moves_only_the_wanted_messages(sqs: Any, aws: dict[str, Any]) -> None:
    dlq, queue = aws["DEFAULT_DLQ_URL"], aws["DEFAULT_QUEUE_URL"]
    sqs.send_message(QueueUrl=dlq, MessageBody=celery_body("skylane.send_email", "keep"))
    sqs.send_message(QueueUrl=dlq, MessageBody=celery_body("skylane.send_email", "move"))

    moved = redrive(sqs, dlq, queue, wanted=lambda letter: letter.job_id == "move")

    assert [letter.job_id for letter in moved] == ["move"]
    assert [letter.job_id for letter in list_dead_letters(sqs, dlq)] == ["keep"]
    assert [letter.job_id for letter in list_dead_letters(sqs, queue)] == ["move"]


def run(argv: list[str]) -> list[str]:
    import argparse

    parser = argparse.ArgumentParser(prog="skylane")
    add_dlq_parser(parser.add_subparsers(dest="command", required=True))
    return run_dlq(parser.parse_args(argv))


def test_the_commands_list_and_redrive_the_environments_queues(
    sqs: Any, aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import infra.stack_state

    monkeypatch.setattr(infra.stack_state, "STATE_PATH", tmp_path / "absent.json")
    sqs.send_message(QueueUrl=aws["HIGH_DLQ_URL"], MessageBody="garbage")

    listed = run(["dlq", "list"])
    high = listed.index("high: 1 dead letter(s)")
    assert "not JSON" in listed[high + 1]
    assert "default: 0 dead letter(s)" in listed

    assert run(["dlq", "redrive", "high"])[0] == "high: 1 message(s) sent back"
    assert run(["dlq", "list", "high"]) == ["high: 0 dead letter(s)"]


def test_skylane_dlq_is_a_subcommand(
    aws: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import infra.stack_state
    from skylane_cli.main import main

    monkeypatch.setattr(infra.stack_state, "STATE_PATH", tmp_path / "absent.json")

    assert main(["dlq", "list", "default"]) == 0
    assert capsys.readouterr().out == "default: 0 dead letter(s)\n"


def write_local_state(path: Path, outputs: dict[str, str]) -> Path:
    """A local stack's state file whose emulator is moto's in-process mock (unit tests only:
    the reachability check is the one thing that needs a server)."""
    from datetime import UTC, datetime

    from infra.stack_state import StackState

    state = StackState(
        stack_name="skylane-unit",
        region="us-east-1",
        endpoint_env={
            "AWS_ENDPOINT_URL": "http://in-process-mock",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        },
        components={},
        outputs=outputs,
        started_at=datetime.now(UTC).isoformat(),
    )
    return state.write(path)


@pytest.fixture
def light_stack(
    sqs: Any, aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> dict[str, str]:
    """A stack whose outputs name high, default, light and the schedules' DLQ; its clients
    are moto's in-process ones."""
    from infra.stack_state import StackState
    from skylane_cli import stack_target

    outputs = {
        "HighQueueUrl": aws["HIGH_QUEUE_URL"],
        "HighDeadLetterQueueUrl": aws["HIGH_DLQ_URL"],
        "DefaultQueueUrl": aws["DEFAULT_QUEUE_URL"],
        "DefaultDeadLetterQueueUrl": aws["DEFAULT_DLQ_URL"],
        "LightQueueUrl": sqs.create_queue(QueueName="light")["QueueUrl"],
        "LightDeadLetterQueueUrl": sqs.create_queue(QueueName="light-dlq")["QueueUrl"],
        "ScheduleDeadLetterQueueUrl": sqs.create_queue(QueueName="schedules-dlq")["QueueUrl"],
    }
    monkeypatch.setattr(StackState, "check_reachable", lambda self, timeout=3.0: None)
    monkeypatch.setattr(
        stack_target.StackTarget, "client", lambda self, service: boto3.client(service)
    )
    write_local_state(tmp_path / "stack.json", outputs)
    return outputs


def test_every_queue_with_a_dead_letter_queue_is_found_in_the_stack_outputs(
    sqs: Any, light_stack: dict[str, str], tmp_path: Path
) -> None:
    state = str(tmp_path / "stack.json")
    sqs.send_message(
        QueueUrl=light_stack["LightDeadLetterQueueUrl"],
        MessageBody=celery_body("skylane.send_email", "light-job"),
    )

    listed = run(["dlq", "list", "--state", state])

    assert [line for line in listed if not line.startswith(" ")] == [
        "high: 0 dead letter(s)",
        "default: 0 dead letter(s)",
        "light: 1 dead letter(s)",
        "schedule: 0 dead letter(s)",
    ]
    assert (
        "job light-job  task skylane.send_email"
        in listed[listed.index("light: 1 dead letter(s)") + 1]
    )
    assert run(["dlq", "redrive", "light", "--state", state]) == [
        "light: 1 message(s) sent back",
        "  job light-job  task skylane.send_email",
    ]
    assert [letter.job_id for letter in list_dead_letters(sqs, light_stack["LightQueueUrl"])] == [
        "light-job"
    ]


def test_unknown_queues_and_a_dlq_without_a_queue_are_refused_clearly(
    light_stack: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from skylane_cli.main import main

    state = str(tmp_path / "stack.json")
    assert main(["dlq", "list", "nope", "--state", state]) == 1
    assert capsys.readouterr().err == (
        "skylane: no dead-letter queue 'nope' (known: high, default, light, schedule)\n"
    )
    assert main(["dlq", "redrive", "schedule", "--state", state]) == 1
    assert "schedule: its dead letters have no queue to go back to" in capsys.readouterr().err


def test_an_absent_state_file_that_was_asked_for_is_an_error(
    aws: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from skylane_cli.main import main

    assert main(["dlq", "list", "--state", str(tmp_path / "absent.json")]) == 1
    assert "make up" in capsys.readouterr().err
