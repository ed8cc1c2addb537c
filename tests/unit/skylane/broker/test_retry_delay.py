import pytest

from skylane.broker.retry_delay import SQS_MAX_DELAY_SECONDS, retry_delay_options


def test_a_countdown_becomes_an_sqs_delay_and_no_eta() -> None:
    assert retry_delay_options(300) == {"countdown": 0, "delay_seconds": 300}
    assert retry_delay_options(0) == {"countdown": 0, "delay_seconds": 0}


@pytest.mark.parametrize("countdown", [-1, SQS_MAX_DELAY_SECONDS + 1])
def test_a_countdown_sqs_cannot_hold_is_refused(countdown: int) -> None:
    with pytest.raises(ValueError, match="outside SQS"):
        retry_delay_options(countdown)
