"""The integration tests' log-file readers (tests/integration/log_files.py) on written files:
what they count decides whether a job ran once."""

from pathlib import Path

from tests.integration.log_files import job_messages, json_lines, starts_logged

JOB = "8d0c7f0e-5a1e-4c4e-9d55-2f5b1c1f0a11"
OTHER = "0b7e2c1a-1111-4222-8333-444455556666"


def write(path: Path, *lines: str) -> Path:
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def test_only_whole_json_lines_are_read(tmp_path: Path) -> None:
    log = write(
        tmp_path / "api.log",
        'INFO:     127.0.0.1:5000 - "GET /health HTTP/1.1" 200 OK',
        '{"message": "job accepted", "job_id": "' + JOB + '"}',
        '{"message": "half writ',  # the reader thread had not finished the line
    )
    assert json_lines(log) == [{"message": "job accepted", "job_id": JOB}]


def test_a_jobs_messages_and_starts_over_every_worker_log(tmp_path: Path) -> None:
    write(
        tmp_path / "worker-1.log",
        '{"message": "job started", "job_id": "' + JOB + '"}',
        '{"message": "job started", "job_id": "' + OTHER + '"}',
        "Traceback (most recent call last):",
        '{"message": "job cancelled while running", "job_id": "' + JOB + '"}',
    )
    write(tmp_path / "worker-2.log", '{"message": "job started", "job_id": "' + JOB + '"}')
    write(tmp_path / "api.log", '{"message": "job started", "job_id": "' + JOB + '"}')

    assert job_messages(tmp_path / "worker-1.log", JOB) == [
        "job started",
        "job cancelled while running",
    ]
    # The API's log is not a worker's.
    assert starts_logged(tmp_path, JOB) == 2
    assert starts_logged(tmp_path, OTHER) == 1
