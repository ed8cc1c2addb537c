"""The private kombu and Celery methods skylane's broker code overrides or calls keep their shape.

kombu and Celery are pinned to the range these were checked against (pyproject.toml); this
fails first, naming the method, when an upgrade moves or reshapes one.
"""

import inspect
from types import SimpleNamespace

import pytest
from celery.backends.base import BaseKeyValueStoreBackend
from kombu.transport import SQS, virtual

from skylane.broker import backend, transport

TRANSPORT = "skylane/broker/transport.py"
BACKEND = "skylane/broker/backend.py"

# Each method as kombu 5.7 and Celery 5.7 define it: its parameters after self.
OVERRIDDEN = {
    (SQS.Channel, "_on_messages_ready"): "(queue, qname, messages)",
    (SQS.Channel, "_schedule_queue"): "(queue)",
    (SQS.Channel, "_loop1"): "(queue, messages_fetched=None)",
    (SQS.Channel, "_restore"): "(message, unwanted_delivery_info=('sqs_message', 'sqs_queue'))",
    (SQS.Channel, "basic_reject"): "(delivery_tag, requeue=False)",
    (BaseKeyValueStoreBackend, "_store_result"): (
        "(task_id, result, state, traceback=None, request=None, **kwargs)"
    ),
    (BaseKeyValueStoreBackend, "_get_task_meta_for"): "(task_id)",
    (BaseKeyValueStoreBackend, "_forget"): "(task_id)",
}
# Called on kombu's objects, not overridden.
CALLED = {
    (virtual.Channel, "basic_ack"): "(delivery_tag, multiple=False)",
    (virtual.QoS, "can_consume"): "()",
    (virtual.QoS, "can_consume_max_estimate"): "()",
    (virtual.QoS, "get"): "(delivery_tag)",
}
OURS = {
    SQS.Channel: (transport.Channel, TRANSPORT),
    BaseKeyValueStoreBackend: (backend.JobStoreBackend, BACKEND),
}


def shape(function: object) -> str:
    parameters = list(inspect.signature(function).parameters.values())[1:]  # type: ignore[arg-type]
    return str(inspect.Signature(parameters))


def where(owner: type, name: str) -> str:
    return f"{owner.__module__}.{owner.__qualname__}.{name}"


@pytest.mark.parametrize(("owner_and_name", "expected"), OVERRIDDEN.items(), ids=str)
def test_each_overridden_private_method_keeps_its_shape(
    owner_and_name: tuple[type, str], expected: str
) -> None:
    owner, name = owner_and_name
    module = OURS[owner][1]
    theirs = getattr(owner, name, None)
    assert theirs is not None, (
        f"{where(owner, name)} is gone, and {module} overrides it: "
        "follow the library's change there before widening its pin in pyproject.toml"
    )
    assert shape(theirs) == expected, (
        f"{where(owner, name)} is now {name}{shape(theirs)}, not {name}{expected}: "
        f"{module} overrides it and must follow before the pin in pyproject.toml widens"
    )


@pytest.mark.parametrize(("owner_and_name", "expected"), CALLED.items(), ids=str)
def test_each_private_kombu_method_the_transport_calls_keeps_its_shape(
    owner_and_name: tuple[type, str], expected: str
) -> None:
    owner, name = owner_and_name
    theirs = getattr(owner, name, None)
    assert theirs is not None, f"{where(owner, name)} is gone; {TRANSPORT} calls it"
    assert shape(theirs) == expected, (
        f"{where(owner, name)} is now {name}{shape(theirs)}, not {name}{expected}; "
        f"{TRANSPORT} calls it"
    )


@pytest.mark.parametrize("base", list(OURS), ids=lambda base: base.__qualname__)
def test_every_private_override_is_checked_here(base: type) -> None:
    ours, module = OURS[base]
    overridden = {
        name
        for klass in ours.__mro__
        if klass.__module__.startswith("skylane.")
        for name, value in vars(klass).items()
        if callable(value)
        and name.startswith("_")
        and not name.startswith("__")
        and hasattr(base, name)
    }
    checked = {name for owner, name in OVERRIDDEN if owner is base}
    assert overridden <= checked, (
        f"{module} overrides private {sorted(overridden - checked)} of {base.__qualname__} "
        "without a shape check: add them to OVERRIDDEN"
    )


def test_the_qos_attributes_the_heartbeat_reads_are_still_there() -> None:
    # skylane/broker/visibility.py reads the unacknowledged deliveries and the acknowledged
    # ones not yet forgotten straight from kombu's QoS.
    # A channel that restores nothing when the QoS is finalized at exit.
    qos = virtual.QoS(channel=SimpleNamespace(do_restore=False))
    assert isinstance(getattr(qos, "_delivered", None), dict), (
        "kombu's QoS has no _delivered dict any more; skylane/broker/visibility.py reads it"
    )
    assert isinstance(getattr(qos, "_dirty", None), set), (
        "kombu's QoS has no _dirty set any more; skylane/broker/visibility.py reads it"
    )
