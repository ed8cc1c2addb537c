"""Presigned uploads: inputs go straight to S3, never through the Lambda."""

from fastapi import APIRouter, status

from functions.api import upload_objects
from functions.api.cold_start import RouteBuiltOnFirstUse
from functions.api.schemas import UploadRequest, UploadResponse

router = APIRouter(tags=["uploads"], route_class=RouteBuiltOnFirstUse)


@router.post("/uploads", status_code=status.HTTP_201_CREATED)
def create_upload(request: UploadRequest) -> UploadResponse:
    """A presigned PUT URL; upload with the same Content-Type, then submit the returned key."""
    ticket = upload_objects.presign_upload(request.filename, request.content_type)
    return UploadResponse(
        key=ticket.key, upload_url=ticket.upload_url, expires_in=ticket.expires_in
    )
