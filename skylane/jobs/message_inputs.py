"""A job's inputs as its Celery message carries them, for the record of a job skylane's API did
not submit (a user's own producer, a chord's parts and body)."""

import json
from typing import Any

# A chord body's arguments are every part's result; the record keeps small inputs only (the
# item must stay far below DynamoDB's 400 KB, and the dashboard shows them whole).
MAX_INPUTS_BYTES = 8 * 1024


def message_inputs(args: Any, kwargs: Any) -> dict[str, Any]:
    """kwargs, plus positional args under "args"; arguments too large are summarised."""
    inputs: dict[str, Any] = dict(kwargs) if isinstance(kwargs, dict) else {}
    if isinstance(args, list | tuple) and args:
        inputs["args"] = list(args)
    encoded = json.dumps(inputs, sort_keys=True, default=str)
    if len(encoded.encode()) <= MAX_INPUTS_BYTES:
        return inputs
    return {
        "omitted": f"{len(encoded.encode())} bytes of arguments, over {MAX_INPUTS_BYTES}",
        "keys": sorted(str(key) for key in inputs),
    }
