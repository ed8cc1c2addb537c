"""The naive port's FastAPI producer (run under uvicorn, as skylane's API is locally)."""

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, EmailStr

from bench.naive.celery_app import celery_app
from bench.naive.tasks import process_large_file, send_email

app = FastAPI()


class FileProcessRequest(BaseModel):
    file_path: str


class EmailRequest(BaseModel):
    email: EmailStr
    subject: str
    body: str


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/process-file")
async def process_file(request: FileProcessRequest) -> dict[str, Any]:
    task = process_large_file.delay(request.file_path)
    return {"message": "Task submitted", "task_id": task.id, "status": "pending"}


@app.post("/send-email")
async def send_email_endpoint(request: EmailRequest) -> dict[str, Any]:
    task = send_email.delay(request.email, request.subject, request.body)
    return {"message": "Email task submitted", "task_id": task.id}


@app.get("/task/{task_id}")
async def get_task_status(task_id: str) -> dict[str, Any]:
    task = celery_app.AsyncResult(task_id)
    response: dict[str, Any] = {"state": task.state}
    if task.state == "PROGRESS":
        response.update(current=task.info.get("current", 0), total=task.info.get("total", 1))
    elif task.state == "SUCCESS":
        response["result"] = task.result
    elif task.state == "FAILURE":
        response["error"] = str(task.info)
    return response
