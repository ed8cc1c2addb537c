"""A batch's summary: what its files' results (process_large_file's) add up to."""

from typing import Any


def summarize(results: list[Any]) -> dict[str, Any]:
    """Files, total size and lines; results that are not a file's facts count as failures
    (a part that raised never gets here: it fails the whole chord, see the README)."""
    files = [r for r in results if isinstance(r, dict) and r.get("status") == "success"]
    return {
        "files": len(files),
        "failures": len(results) - len(files),
        "total_size_bytes": sum(int(r.get("size_bytes", 0) or 0) for r in files),
        "total_lines": sum(int(r.get("lines", 0) or 0) for r in files),
    }
