import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from skylane.dead_letters import describe, list_dead_letters, redrive
from skylane.dlq_cli import add_dlq_parser, run_dlq


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
    assert listed[0] == "high: 1 dead letter(s)"
    assert "not JSON" in listed[1]
    assert listed[2] == "default: 0 dead letter(s)"

    assert run(["dlq", "redrive", "high"])[0] == "high: 1 message(s) sent back"
    assert run(["dlq", "list", "high"]) == ["high: 0 dead letter(s)"]


def test_skylane_dlq_is_a_subcommand(
    aws: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import infra.stack_state
    from skylane.cli import main

    monkeypatch.setattr(infra.stack_state, "STATE_PATH", tmp_path / "absent.json")

    assert main(["dlq", "list", "default"]) == 0
    assert capsys.readouterr().out == "default: 0 dead letter(s)\n"
