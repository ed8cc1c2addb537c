"""Taking the session's workers away, for a test that needs the queues to itself."""

import time

from tests.integration.conftest import LONG_POLL_SECONDS, LocalStack


def stop_every_worker(local_stack: LocalStack) -> None:
    for worker in list(local_stack.workers):
        local_stack.stop_worker(worker)
    # A receive the stopped worker left open can still take a message, which would then wait
    # out its visibility timeout: let those receives end before sending anything.
    time.sleep(LONG_POLL_SECONDS + 1)
