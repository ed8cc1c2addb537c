"""POST /process-batch: many files processed in parallel, then one summary (a Celery chord)."""

from fastapi import APIRouter, status

from functions.api import upload_objects
from functions.api.batches import submit_batch
from functions.api.cold_start import RouteBuiltOnFirstUse
from functions.api.schemas import BatchAccepted, BatchRequest

router = APIRouter(tags=["jobs"], route_class=RouteBuiltOnFirstUse)


@router.post("/process-batch", status_code=status.HTTP_202_ACCEPTED)
def process_batch(request: BatchRequest) -> BatchAccepted:
    keys = [upload_objects.require_upload(path) for path in request.file_paths]
    batch = submit_batch(keys)
    return BatchAccepted(message="Batch submitted", task_id=batch.job_id, parts=batch.parts)
