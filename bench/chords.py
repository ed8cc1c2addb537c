"""DynamoDB writes per chord part: one POST /process-batch measured through the proxies.

A part is a process_large_file job of one chunk (PutItem of its record as it is sent,
STARTED, the first and last progress step, SUCCESS) plus what the chord adds: one counting
UpdateItem on the body's record. The body's own writes (its record, the saved header group,
STARTED, SUCCESS, the group's delete) are shared by all parts and shown apart.
"""

import time
from typing import Any

import httpx

from bench.jobs import SETTLE_SECONDS
from bench.stack import Bench

PARTS = 20
PART_SIZE = 1024
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem")


def _writes(counts: dict[tuple[str, str], int]) -> dict[str, int]:
    return {
        op: n
        for (service, op), n in sorted(counts.items())
        if service == "dynamodb" and op in WRITES
    }


def measure(bench: Bench, parts: int = PARTS) -> dict[str, Any]:
    system = bench.skylane
    keys = [bench.upload(PART_SIZE) for _ in range(parts)]
    single = bench.upload(PART_SIZE)
    # A lone process_file job of the same size: what a part costs without a chord.
    system.reset()
    lone = system.submit("/process-file", {"file_path": single})
    bench.wait_final(system, [lone])
    time.sleep(SETTLE_SECONDS)
    lone_writes = sum(
        _writes(system.api_counter.snapshot() + system.worker_counter.snapshot()).values()
    )

    system.reset()
    answer = httpx.post(f"{system.api_url}/process-batch", json={"file_paths": keys}, timeout=60)
    answer.raise_for_status()
    batch_id, part_ids = answer.json()["task_id"], answer.json()["parts"]
    bench.wait_final(system, [batch_id, *part_ids], timeout=300)
    time.sleep(SETTLE_SECONDS)
    api = _writes(system.api_counter.snapshot())
    worker = _writes(system.worker_counter.snapshot())
    total = sum(api.values()) + sum(worker.values())
    per_part = total / parts
    return {
        "parts": parts,
        "dynamodb_writes": {"api": api, "worker": worker, "total": total},
        "writes_per_part": round(per_part, 2),
        "lone_job_writes": lone_writes,
        # The chord's own cost per part, the lone job's writes taken off.
        "chord_writes_per_part": round(per_part - lone_writes, 2),
    }
