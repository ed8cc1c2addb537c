"""The one structured logger (Powertools JSON lines), shared by the API, scheduler and worker.

Keys such as job_id, task, queue and attempt go in ``extra=``, so one job id finds every line.
Keys of a whole request or job are bound with ``log_keys``: a context variable, so they follow
the request into FastAPI's thread pool and never leak into a concurrent request's lines.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager

from aws_lambda_powertools import Logger

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "skylane"))


@contextmanager
def log_keys(**keys: object) -> Iterator[None]:
    """Every line logged inside carries `keys`; the keys bound before are restored after.

    Powertools' thread_safe_remove_keys edits the context's dict in place, which a copied
    context (a thread-pool call) shares with its parent: restoring a snapshot never does.
    """
    before = dict(logger.thread_safe_get_current_keys())
    logger.thread_safe_append_keys(**keys)
    try:
        yield
    finally:
        logger.thread_safe_clear_keys()
        if before:
            logger.thread_safe_append_keys(**before)
