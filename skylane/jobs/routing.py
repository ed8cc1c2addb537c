"""Which lane runs a job: the light lane (LightFunction) or the task's own worker queue.

Short, non-critical tasks go to the light lane; long or critical ones, scheduled ones and any
whose hard time limit exceeds the light function's Timeout go to the worker. Every producer
asks here (skylane.jobs.submission); the README's *Lanes* says why.
"""

from dataclasses import dataclass

from skylane.jobs.contracts import QueueName, TaskSpec

# Under this many expected seconds (and not critical), a task is light.
SHORT_TASK_SECONDS = 30
# Lambda's own limit on one invocation.
LAMBDA_MAX_TIMEOUT_SECONDS = 900
# LightFunction's Timeout in template.yaml (a unit test holds the two together). A task whose
# hard limit is longer could be cut off mid-job by Lambda, so it goes to the worker.
LIGHT_FUNCTION_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class Route:
    queue: QueueName
    # Why, in words, for logs and the README's table.
    reason: str

    @property
    def light(self) -> bool:
        return self.queue is QueueName.LIGHT


def route(spec: TaskSpec, light_timeout_seconds: int = LIGHT_FUNCTION_TIMEOUT_SECONDS) -> Route:
    """The lane for one job of ``spec``."""
    if spec.queue is QueueName.LIGHT:
        raise ValueError(f"{spec.name}: a spec names its worker queue; the router picks light")
    cap = min(light_timeout_seconds, LAMBDA_MAX_TIMEOUT_SECONDS)
    if spec.time_limit > cap:
        return Route(spec.queue, f"time limit {spec.time_limit} s exceeds the light lane's {cap} s")
    if spec.periodic:
        return Route(spec.queue, "scheduled tasks run on the worker")
    if spec.critical:
        return Route(spec.queue, "critical")
    if spec.expected_seconds >= SHORT_TASK_SECONDS:
        return Route(spec.queue, f"expected {spec.expected_seconds} s, not under 30 s")
    return Route(QueueName.LIGHT, f"expected {spec.expected_seconds} s and not critical")


def queue_for(spec: TaskSpec, *, light_lane_available: bool = True) -> QueueName:
    """The queue a job of ``spec`` is sent to.

    Without a light queue configured (LIGHT_QUEUE_URL empty: an older stack) a light job goes
    to its worker queue: every worker runs every task, so it still runs.
    """
    chosen = route(spec)
    if chosen.light and not light_lane_available:
        return spec.queue
    return chosen.queue
