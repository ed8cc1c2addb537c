"""Running a Lambda function's handler in-process (infra/function_runner.py): the context it
gets, the handler the template names, and the stop on SIGTERM/SIGINT that both local runners
rely on."""

import os
import signal
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from infra.emulator import start_moto
from infra.function_runner import (
    LocalLambdaContext,
    emulator_account,
    function_invoker,
    lambda_region,
    physical_name,
    run_until_stopped,
)
from infra.schedules import load_template


def test_the_lambda_context_looks_like_lambdas() -> None:
    context = LocalLambdaContext("skylane-local-SchedulerFunction", "us-east-1", 256, 30)
    assert context.function_name == "skylane-local-SchedulerFunction"
    assert context.invoked_function_arn == (
        "arn:aws:lambda:us-east-1:123456789012:function:skylane-local-SchedulerFunction"
    )
    assert context.memory_limit_in_mb == 256
    assert 29_000 < context.get_remaining_time_in_millis() <= 30_000
    assert context.aws_request_id != LocalLambdaContext("f", "us-east-1", 128, 3).aws_request_id


def test_the_invoker_calls_the_templates_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[Any, Any]] = []
    monkeypatch.setattr(
        "functions.scheduler.handler.handler", lambda event, context: seen.append((event, context))
    )
    invoke = function_invoker(
        load_template(), "SchedulerFunction", "stack-Fn", "us-east-1", account="000000000000"
    )
    invoke({"task": "t"})
    event, context = seen[0]
    assert event == {"task": "t"}
    assert context.invoked_function_arn == "arn:aws:lambda:us-east-1:000000000000:function:stack-Fn"
    # The template's MemorySize and Timeout for the function.
    assert context.memory_limit_in_mb == 256
    assert 0 < context.get_remaining_time_in_millis() <= 30_000


REMEMBERED: list[tuple[Any, Any]] = []


def remember(event: Any, context: Any) -> None:
    """A handler for the test below (a template names it by its module path)."""
    REMEMBERED.append((event, context))


def test_a_function_without_memory_or_timeout_gets_lambdas_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handler = f"{__name__}.remember"
    template = {"Resources": {"Fn": {"Properties": {"Handler": handler}}}}
    REMEMBERED.clear()
    # The account in the function's ARN is the one the emulator's STS reports.
    emulator = start_moto(port=0)
    for name, value in emulator.endpoint.env().items():
        monkeypatch.setenv(name, value)
    emulator_account.cache_clear()
    try:
        function_invoker(template, "Fn", physical_name("stack", "Fn"), "eu-west-1")({"n": 1})
    finally:
        emulator_account.cache_clear()
        emulator.stop()
    [(event, context)] = REMEMBERED
    assert event == {"n": 1}
    assert context.function_name == "stack-Fn"
    assert context.invoked_function_arn == "arn:aws:lambda:eu-west-1:123456789012:function:stack-Fn"
    assert context.memory_limit_in_mb == 128
    assert 0 < context.get_remaining_time_in_millis() <= 3_000


def test_the_region_is_the_environments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    assert lambda_region() == "us-east-1"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert lambda_region() == "eu-west-1"
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    assert lambda_region() == "ap-south-1"


@pytest.fixture
def signal_handlers() -> Iterator[None]:
    """The test process's own SIGTERM and SIGINT handlers, put back afterwards."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.mark.usefixtures("signal_handlers")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_lets_the_loop_finish_after_the_ready_line(
    signum: signal.Signals, capsys: pytest.CaptureFixture[str]
) -> None:
    said: list[str] = []

    def loop(stop: threading.Event) -> None:
        said.append(capsys.readouterr().out)
        os.kill(os.getpid(), signum)
        # The signal only asks: the loop sees it and ends on its own.
        assert stop.wait(30)
        said.append("loop ended")

    assert run_until_stopped("runner ready: 3 things", loop) == 0
    assert said == ["runner ready: 3 things\n", "loop ended"]
