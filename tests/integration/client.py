"""What an HTTP client of skylane does: upload through a presigned URL, submit, poll."""

import time
from dataclasses import dataclass, field
from typing import Any

import httpx

FINAL = {"SUCCESS", "FAILURE", "REVOKED"}


@dataclass
class Followed:
    """A job followed through /task/{id} until a final state."""

    job_id: str
    final: dict[str, Any]
    states_seen: list[str] = field(default_factory=list)


def upload(api_url: str, filename: str, data: bytes, content_type: str) -> str:
    ticket = httpx.post(
        f"{api_url}/uploads", json={"filename": filename, "content_type": content_type}
    )
    assert ticket.status_code == 201, ticket.text
    put = httpx.put(
        ticket.json()["upload_url"],
        content=data,
        headers={"Content-Type": content_type},
        timeout=60,
    )
    assert put.status_code == 200, put.text
    key: str = ticket.json()["key"]
    return key


def submit(api_url: str, path: str, body: dict[str, Any]) -> str:
    answer = httpx.post(f"{api_url}{path}", json=body, timeout=30)
    assert answer.status_code == 202, answer.text
    payload = answer.json()
    job_id: str = payload.get("task_id") or payload["job_id"]
    return job_id


def follow(api_url: str, job_id: str, timeout: float = 60, poll: float = 0.05) -> Followed:
    followed = Followed(job_id=job_id, final={})
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=10) as http:
        while time.monotonic() < deadline:
            view = http.get(f"{api_url}/task/{job_id}")
            assert view.status_code == 200, view.text
            state = view.json()["state"]
            if not followed.states_seen or followed.states_seen[-1] != state:
                followed.states_seen.append(state)
            if state in FINAL:
                followed.final = view.json()
                return followed
            time.sleep(poll)
    raise AssertionError(f"job {job_id} not final after {timeout} s; saw {followed.states_seen}")


def job_view(api_url: str, job_id: str) -> dict[str, Any]:
    answer = httpx.get(f"{api_url}/job/{job_id}", timeout=10)
    assert answer.status_code == 200, answer.text
    view: dict[str, Any] = answer.json()
    return view
