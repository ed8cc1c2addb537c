"""cleanup_temp_files' work: the two kinds of leftovers skylane itself creates.

1. Stale files in this worker's scratch directory (functions.tasks.scratch), never /tmp as a
   whole: an hour-old file there may be another program's.
2. Incomplete multipart uploads, stored but invisible to listings, before the bucket's
   lifecycle rule would abort them after a day.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from botocore.exceptions import ClientError

from functions.tasks.scratch import sweep_scratch
from skylane.core.aws import client
from skylane.core.outages import unavailable_as
from skylane.jobs.store import utcnow
from skylane.observability.logs import logger

# An upload younger than this may still be in progress. The age used is the longer of this and
# the lifetime of the upload URLs the API hands out (upload_url_expires_seconds): until they
# expire, a client may still be sending.
MIN_MULTIPART_AGE = timedelta(hours=1)


@dataclass(frozen=True)
class CleanupOutcome:
    scratch_files_deleted: int
    scratch_bytes_freed: int
    multipart_uploads_aborted: int


def abort_stale_multipart_uploads(bucket: str, max_age: timedelta, now: datetime) -> int:
    """Abort every multipart upload in `bucket` initiated before `now - max_age`."""
    s3 = client("s3")
    cutoff = now - max_age
    aborted = 0
    with unavailable_as("S3"):
        for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
            for upload in page.get("Uploads", []):
                if upload["Initiated"] >= cutoff:
                    continue
                try:
                    s3.abort_multipart_upload(
                        Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                except ClientError as exc:
                    # Completed or aborted since the listing: nothing is left to free.
                    if exc.response.get("Error", {}).get("Code") == "NoSuchUpload":
                        continue
                    raise
                logger.info(
                    "stale multipart upload aborted",
                    extra={
                        "bucket": bucket,
                        "key": upload["Key"],
                        "initiated": upload["Initiated"],
                    },
                )
                aborted += 1
    return aborted


def cleanup_temp_files(
    *,
    scratch: Path,
    scratch_max_age_seconds: int,
    uploads_bucket: str,
    upload_url_expires_seconds: int,
    now: datetime | None = None,
) -> CleanupOutcome:
    moment = now or utcnow()
    swept = sweep_scratch(scratch, scratch_max_age_seconds, now=moment.timestamp())
    multipart_age = max(MIN_MULTIPART_AGE, timedelta(seconds=upload_url_expires_seconds))
    aborted = abort_stale_multipart_uploads(uploads_bucket, multipart_age, moment)
    return CleanupOutcome(
        scratch_files_deleted=swept.files_deleted,
        scratch_bytes_freed=swept.bytes_freed,
        multipart_uploads_aborted=aborted,
    )
