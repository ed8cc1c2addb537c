"""The capacity model's arithmetic and the autoscaling simulation, on the real template."""

import math

import pytest

from bench.autoscaling import Policy, Step, Workload, simulate
from bench.capacity import (
    WORKER_CONCURRENCY,
    Assumptions,
    first_to_saturate,
    saturation,
)
from infra.template import load_template

TEMPLATE = load_template()


def test_the_policy_is_the_templates() -> None:
    policy = Policy.from_template(TEMPLATE)
    config = TEMPLATE["Resources"]["WorkerScaleOutPolicy"]["Properties"][
        "StepScalingPolicyConfiguration"
    ]
    assert policy.scale_out_cooldown == config["Cooldown"]
    assert [s.adjustment for s in policy.steps] == [
        s["ScalingAdjustment"] for s in config["StepAdjustments"]
    ]
    assert policy.max_count == TEMPLATE["Parameters"]["WorkerMaxCount"]["Default"]


def test_the_worker_concurrency_is_the_workers_default(aws: object) -> None:
    from functions.worker.__main__ import DEFAULT_CONCURRENCY

    assert WORKER_CONCURRENCY == DEFAULT_CONCURRENCY


def test_steps_follow_the_backlog_above_the_threshold() -> None:
    policy = Policy.from_template(TEMPLATE)
    assert policy.adjustment(0) == 0
    assert policy.adjustment(10) == 1
    assert policy.adjustment(100) == 2
    assert policy.adjustment(10_000) == 4


def test_saturation_rates_divide_capacity_by_the_units_per_job() -> None:
    parts = {
        p.name: p
        for p in saturation(TEMPLATE, {"table": 4, "by_day": 1}, "send_email", Assumptions())
    }
    assert parts["DynamoDB job table, new on-demand table"].jobs_per_second == 1000
    assert parts["by_day index, the 10 shards of a day"].jobs_per_second == 10_000
    assert math.isinf(parts["by_user index, one user's partition"].jobs_per_second)
    throttle = TEMPLATE["Parameters"]["ApiThrottlingRateLimit"]["Default"]
    assert parts["API Gateway stage throttle"].jobs_per_second == throttle


def test_the_light_lane_does_not_limit_worker_jobs() -> None:
    parts = saturation(TEMPLATE, {"table": 3}, "send_email", Assumptions(light_job_seconds=10))
    assert first_to_saturate(parts, "worker").lane != "light"
    assert first_to_saturate(parts, "light").name == "light lane (LightFunction)"


def small_policy(max_count: int = 4) -> Policy:
    return Policy(
        min_count=0,
        max_count=max_count,
        steps=(Step(0, 50, 1), Step(50, math.inf, 2)),
        scale_out_cooldown=120,
        scale_in_count=0,
        backlog_threshold=0,
        alarm_period=60,
        idle_periods=15,
        task_vcpu=0.5,
        task_gb=1.0,
    )


def test_a_burst_drains_at_the_full_fleets_rate_once_it_has_scaled_out() -> None:
    # +2 at 60 s, +2 at 180 s (cooldown), each ready 60 s later: 4 tasks from 240 s.
    run = simulate(
        small_policy(),
        Workload("b", burst=10_000),
        concurrency=2,
        job_seconds=1.0,
        startup_seconds=60,
        max_seconds=100_000,
    )
    served_before_full = 2 * 2 * (240 - 120)  # two tasks from 120 s
    assert run.drained_at == pytest.approx(240 + (10_000 - served_before_full) / 8, abs=2)
    assert run.peak_tasks == 4
    assert run.jobs_done == pytest.approx(10_000)


def test_the_fleet_scales_to_zero_after_the_idle_periods() -> None:
    run = simulate(
        small_policy(),
        Workload("b", burst=100),
        concurrency=2,
        job_seconds=1.0,
        startup_seconds=60,
        max_seconds=10_000,
    )
    assert run.drained_at is not None
    assert run.tasks[-1] == 0
    assert run.end <= run.drained_at + 16 * 60 + 60


def test_a_steady_rate_above_the_fleets_capacity_builds_a_backlog() -> None:
    run = simulate(
        small_policy(max_count=2),
        Workload("s", rate_per_second=10, arrival_seconds=3600),
        concurrency=2,
        job_seconds=1.0,
        startup_seconds=60,
        max_seconds=20_000,
    )
    # 10 jobs/s against 4 jobs/s of capacity: at least 6 jobs/s pile up once scaled out.
    assert max(run.backlog) >= 6 * 3000
    assert run.drained_at is not None
    assert run.drained_at > 3600


def test_running_jobs_keep_the_fleet_up_while_none_waits() -> None:
    # 2 jobs/s against 8 jobs/s of capacity: nothing waits once scaled out, yet jobs run.
    run = simulate(
        small_policy(),
        Workload("s", rate_per_second=2, arrival_seconds=3600),
        concurrency=2,
        job_seconds=1.0,
        startup_seconds=60,
        max_seconds=20_000,
    )
    during = [tasks for t, tasks in zip(run.times, run.tasks, strict=True) if 600 <= t < 3600]
    assert min(during) > 0
