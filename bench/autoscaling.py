"""The worker's autoscaling policy, read from template.yaml, and a discrete-time simulation of it.

The model, one step a second:
- jobs arrive on the worker's queues (a burst at t=0, or a steady rate);
- every alarm period CloudWatch looks at the largest backlog of the period (the alarms'
  ``Maximum`` statistic); while the backlog alarm is in ALARM the scale-out policy adds the
  step adjustment its bounds give for the backlog, at most once per cooldown, up to the
  maximum count (Application Auto Scaling invokes a policy every minute its alarm stays in
  ALARM; this model lets a cooldown pass before the next adjustment, the conservative reading);
- a task added starts ``startup_seconds`` later (Fargate's provisioning, image pull, worker
  start) and then runs ``concurrency`` jobs at a time, each ``job_seconds`` long;
- once nothing has waited or run for the idle alarm's evaluation periods, the count goes to the
  scale-to-zero policy's exact capacity;
- a task is billed from its start request to its stop, as Fargate bills it (per second).
"""

import math
from dataclasses import dataclass, field
from typing import Any

Template = dict[str, Any]


@dataclass(frozen=True)
class Step:
    lower: float
    upper: float
    adjustment: int


@dataclass(frozen=True)
class Policy:
    min_count: int
    max_count: int
    steps: tuple[Step, ...]
    scale_out_cooldown: int
    scale_in_count: int
    backlog_threshold: float
    alarm_period: int
    idle_periods: int
    task_vcpu: float
    task_gb: float

    @classmethod
    def from_template(cls, template: Template) -> "Policy":
        resources, parameters = template["Resources"], template["Parameters"]
        out = resources["WorkerScaleOutPolicy"]["Properties"]["StepScalingPolicyConfiguration"]
        to_zero = resources["WorkerScaleToZeroPolicy"]["Properties"][
            "StepScalingPolicyConfiguration"
        ]
        backlog = resources["WorkerBacklogAlarm"]["Properties"]
        idle = resources["WorkerIdleAlarm"]["Properties"]
        steps = tuple(
            Step(
                float(step.get("MetricIntervalLowerBound", -math.inf)),
                float(step.get("MetricIntervalUpperBound", math.inf)),
                int(step["ScalingAdjustment"]),
            )
            for step in out["StepAdjustments"]
        )
        periods = {
            int(metric["MetricStat"]["Period"])
            for metric in backlog["Metrics"]
            if "MetricStat" in metric
        }
        return cls(
            min_count=int(parameters["WorkerMinCount"]["Default"]),
            max_count=int(parameters["WorkerMaxCount"]["Default"]),
            steps=steps,
            scale_out_cooldown=int(out["Cooldown"]),
            scale_in_count=int(to_zero["StepAdjustments"][0]["ScalingAdjustment"]),
            backlog_threshold=float(backlog["Threshold"]),
            alarm_period=max(periods),
            idle_periods=int(idle["EvaluationPeriods"]),
            task_vcpu=int(parameters["WorkerCpu"]["Default"]) / 1024,
            task_gb=int(parameters["WorkerMemory"]["Default"]) / 1024,
        )

    def adjustment(self, backlog: float) -> int:
        """The scale-out step for a backlog (0 when the alarm is not in ALARM)."""
        if backlog <= self.backlog_threshold:
            return 0
        over = backlog - self.backlog_threshold
        for step in self.steps:
            if step.lower <= over < step.upper:
                return step.adjustment
        return 0


@dataclass(frozen=True)
class Workload:
    name: str
    burst: int = 0
    rate_per_second: float = 0.0
    arrival_seconds: int = 0


@dataclass
class Run:
    """One simulated run: series sampled every ``sample_seconds``, and its totals."""

    workload: Workload
    times: list[int] = field(default_factory=list)
    backlog: list[float] = field(default_factory=list)
    tasks: list[int] = field(default_factory=list)
    drained_at: int | None = None
    peak_tasks: int = 0
    task_seconds: float = 0.0
    jobs_done: float = 0.0
    end: int = 0


def simulate(
    policy: Policy,
    workload: Workload,
    *,
    concurrency: int,
    job_seconds: float,
    startup_seconds: int,
    max_seconds: int,
    sample_seconds: int = 60,
) -> Run:
    """The backlog as a fluid: each ready task serves concurrency / job_seconds jobs a second."""
    run = Run(workload)
    waiting = float(workload.burst)
    ready, desired = 0, 0
    starting: list[int] = []  # when each task still starting was asked for
    period_max, period_busy = waiting, False
    last_scale_out = -policy.scale_out_cooldown
    idle_periods = 0
    per_task_rate = concurrency / job_seconds
    for t in range(max_seconds):
        if t < workload.arrival_seconds:
            waiting += workload.rate_per_second
        while starting and t - starting[0] >= startup_seconds:
            starting.pop(0)
            ready += 1
        served = min(waiting, ready * per_task_rate)
        waiting -= served
        run.jobs_done += served
        period_max = max(period_max, waiting)
        # Jobs running count as work for the idle alarm (ApproximateNumberOfMessagesNotVisible).
        period_busy = period_busy or served > 0
        run.task_seconds += ready + len(starting)
        if (t + 1) % policy.alarm_period == 0:
            step = policy.adjustment(period_max)
            if step and t - last_scale_out >= policy.scale_out_cooldown:
                target = min(policy.max_count, desired + step)
                starting.extend([t] * (target - desired))
                desired, last_scale_out = target, t
            idle_periods = idle_periods + 1 if period_max <= 0 and not period_busy else 0
            if idle_periods >= policy.idle_periods and desired > policy.scale_in_count:
                desired = max(policy.min_count, policy.scale_in_count)
                ready, starting = min(ready, desired), []
            period_max, period_busy = waiting, False
        run.peak_tasks = max(run.peak_tasks, ready + len(starting))
        if run.drained_at is None and t >= workload.arrival_seconds and waiting <= 1e-9:
            run.drained_at = t + 1
        if t % sample_seconds == 0:
            run.times.append(t)
            run.backlog.append(waiting)
            run.tasks.append(ready + len(starting))
        run.end = t + 1
        if run.drained_at is not None and desired == 0 and not starting:
            break
    # The state the run ended in (scaled in, or still busy at max_seconds).
    run.times.append(run.end)
    run.backlog.append(waiting)
    run.tasks.append(ready + len(starting))
    return run
