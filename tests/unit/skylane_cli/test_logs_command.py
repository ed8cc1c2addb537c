"""`skylane logs`' arguments and how a line is printed."""

from datetime import UTC, datetime

import pytest

from skylane.observability.log_search import LogLine
from skylane_cli.logs import render
from skylane_cli.main import parse_args

LINE = LogLine(
    timestamp=datetime(2026, 11, 29, 1, 44, 24, 688000, tzinfo=UTC),
    component="worker",
    level="WARNING",
    message="transient failure, retrying",
    keys={"job_id": "a6af7a57", "task": "skylane.send_email", "attempt": 1, "queue": "default"},
)


def test_a_line_shows_time_component_level_message_and_its_telling_keys() -> None:
    assert render(LINE, show_job=False).plain == (
        "2026-11-29 01:44:24.688  worker   WARNING transient failure, retrying"
        "  task=skylane.send_email  attempt=1"
    )


def test_the_job_id_is_shown_when_lines_of_many_jobs_are_printed() -> None:
    assert "  job_id=a6af7a57  task=" in render(LINE, show_job=True).plain


def test_the_level_is_coloured() -> None:
    styles = {str(span.style) for span in render(LINE, show_job=False).spans}
    assert "yellow" in styles


def test_arguments() -> None:
    args = parse_args(["logs", "a6af7a57", "--level", "warning", "--component", "worker"])
    assert (args.job_id, args.level, args.component, args.follow) == (
        "a6af7a57",
        "WARNING",
        ["worker"],
        False,
    )
    assert parse_args(["logs", "-f"]).job_id is None


def test_an_unknown_component_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["logs", "--component", "database"])
    assert "invalid choice: 'database'" in capsys.readouterr().err


def test_a_multi_line_message_keeps_its_lines_indented_under_the_event() -> None:
    line = LogLine(
        timestamp=LINE.timestamp,
        component="worker",
        level="ERROR",
        message="Received unregistered task.\nThe message has been ignored and discarded.\n",
        keys={},
    )
    printed = render(line, show_job=False).plain.splitlines()
    assert printed[0].endswith("ERROR   Received unregistered task.")
    assert printed[1:] == ["    The message has been ignored and discarded."]
