"""Job inputs live in the uploads bucket: the API and the workers share no disk.

Clients get a presigned PUT URL from POST /uploads, upload, then name the object in a job as
its key (``uploads/<id>/<name>``) or as ``s3://<uploads bucket>/<key>``.
"""

import re
from dataclasses import dataclass
from uuid import uuid4

from botocore.exceptions import ClientError

from skylane.core.aws import client
from skylane.core.errors import InvalidInput
from skylane.core.outages import unavailable_as
from skylane.core.settings import get_settings

UPLOAD_PREFIX = "uploads/"
MAX_KEY_LENGTH = 1024
_UNSAFE_FILENAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class UploadTicket:
    key: str
    upload_url: str
    expires_in: int


def safe_filename(filename: str) -> str:
    """The last path segment of filename, reduced to characters safe in any S3 key."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE_FILENAME_CHARS.sub("_", base).strip("._")
    return cleaned[:200] or "file"


def presign_upload(filename: str, content_type: str) -> UploadTicket:
    settings = get_settings()
    key = f"{UPLOAD_PREFIX}{uuid4()}/{safe_filename(filename)}"
    # Presigning is local computation (no request), so it cannot hit an outage.
    url = client("s3").generate_presigned_url(
        "put_object",
        Params={"Bucket": settings.uploads_bucket, "Key": key, "ContentType": content_type},
        ExpiresIn=settings.upload_url_expires_seconds,
    )
    return UploadTicket(key=key, upload_url=url, expires_in=settings.upload_url_expires_seconds)


def presign_download(bucket: str, key: str, expires_in: int = 3600) -> str:
    url: str = client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_in
    )
    return url


def input_key(file_path: str) -> str:
    """The uploads-bucket key that file_path names, or InvalidInput saying what is wrong."""
    bucket = get_settings().uploads_bucket
    path = file_path.strip()
    if path.startswith("s3://"):
        named_bucket, _, path = path[len("s3://") :].partition("/")
        if named_bucket != bucket:
            raise InvalidInput(
                "file_path",
                f"file_path must be in the uploads bucket s3://{bucket}/, not s3://{named_bucket}/",
            )
    segments = path.split("/")
    if (
        not path
        or path.startswith("/")
        or "\\" in path
        or "\x00" in path
        or any(segment in ("", ".", "..") for segment in segments)
        or len(path) > MAX_KEY_LENGTH
    ):
        raise InvalidInput(
            "file_path",
            "file_path must be an object key in the uploads bucket (e.g. the key returned by "
            "POST /uploads), without '..', empty segments or a leading '/'",
        )
    return path


def require_upload(file_path: str) -> str:
    """input_key(file_path), checked to exist in the uploads bucket."""
    key = input_key(file_path)
    bucket = get_settings().uploads_bucket
    try:
        with unavailable_as("S3"):
            client("s3").head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status in (403, 404):
            raise InvalidInput(
                "file_path",
                f"no object '{key}' in the uploads bucket; upload it first (POST /uploads)",
            ) from exc
        raise
    return key
