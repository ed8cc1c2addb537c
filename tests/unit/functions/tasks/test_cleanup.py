import os
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from functions.tasks.cleanup import abort_stale_multipart_uploads, cleanup_temp_files

HOUR = timedelta(hours=1)


def start_multipart_upload(bucket: str, key: str) -> datetime:
    """Start an upload (with one part stored) and return when S3 says it was initiated."""
    s3 = boto3.client("s3")
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=b"part")
    return in_progress(bucket)[key]


def in_progress(bucket: str) -> dict[str, datetime]:
    uploads = boto3.client("s3").list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    return {upload["Key"]: upload["Initiated"] for upload in uploads}


def test_an_upload_is_aborted_only_once_it_is_older_than_the_limit(
    aws: dict[str, Any],
) -> None:
    bucket = aws["UPLOADS_BUCKET"]
    initiated = start_multipart_upload(bucket, "uploads/abc/big.bin")

    young = abort_stale_multipart_uploads(bucket, HOUR, now=initiated + HOUR / 2)
    assert young == 0
    assert "uploads/abc/big.bin" in in_progress(bucket)

    old = abort_stale_multipart_uploads(bucket, HOUR, now=initiated + 2 * HOUR)
    assert old == 1
    assert in_progress(bucket) == {}


def test_cleanup_sweeps_scratch_and_aborts_stale_uploads(
    aws: dict[str, Any], tmp_path: Path
) -> None:
    bucket = aws["UPLOADS_BUCKET"]
    initiated = start_multipart_upload(bucket, "uploads/abc/big.bin")
    now = initiated + 2 * HOUR
    old = tmp_path / "old.bin"
    old.write_bytes(b"leftover")
    os.utime(old, (now.timestamp() - 7200, now.timestamp() - 7200))
    fresh = tmp_path / "fresh.bin"
    fresh.write_bytes(b"in use")
    os.utime(fresh, (now.timestamp() - 60, now.timestamp() - 60))

    outcome = cleanup_temp_files(
        scratch=tmp_path,
        scratch_max_age_seconds=3600,
        uploads_bucket=bucket,
        upload_url_expires_seconds=900,
        now=now,
    )

    assert (
        outcome.scratch_files_deleted,
        outcome.scratch_bytes_freed,
        outcome.multipart_uploads_aborted,
    ) == (1, len(b"leftover"), 1)
    assert not old.exists()
    assert fresh.exists()


def test_uploads_are_kept_while_their_upload_urls_are_still_valid(
    aws: dict[str, Any], tmp_path: Path
) -> None:
    bucket = aws["UPLOADS_BUCKET"]
    initiated = start_multipart_upload(bucket, "uploads/abc/slow.bin")

    outcome = cleanup_temp_files(
        scratch=tmp_path,
        scratch_max_age_seconds=3600,
        uploads_bucket=bucket,
        upload_url_expires_seconds=3 * 3600,
        now=initiated + 2 * HOUR,
    )

    assert outcome.multipart_uploads_aborted == 0
    assert "uploads/abc/slow.bin" in in_progress(bucket)


def test_cleanup_uses_the_real_clock_by_default(aws: dict[str, Any], tmp_path: Path) -> None:
    old = tmp_path / "old.bin"
    old.write_bytes(b"x")
    os.utime(old, (time.time() - 7200, time.time() - 7200))

    outcome = cleanup_temp_files(
        scratch=tmp_path,
        scratch_max_age_seconds=3600,
        uploads_bucket=aws["UPLOADS_BUCKET"],
        upload_url_expires_seconds=900,
    )

    assert outcome.scratch_files_deleted == 1
