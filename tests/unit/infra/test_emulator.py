import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from infra.emulator import (
    DEFAULT_PORT,
    AwsEndpoint,
    Emulator,
    configured_port,
    external_endpoint,
    free_port,
    start_emulator,
    start_moto,
)
from infra.emulators import LOCALSTACK_KIND, MINISTACK_KIND, MOTO_KIND


@pytest.fixture
def moto_server() -> Iterator[Emulator]:
    emulator = start_moto(port=0)
    yield emulator
    emulator.stop()


def test_no_external_endpoint_without_either_variable() -> None:
    assert external_endpoint({}) is None


def test_aws_endpoint_url_names_the_external_endpoint() -> None:
    # Nothing answers there: taken for LocalStack, with LocalStack's default credentials.
    endpoint = external_endpoint(
        {"AWS_ENDPOINT_URL": "http://emulator:9000", "AWS_REGION": "eu-west-1"}
    )
    assert endpoint == AwsEndpoint(
        url="http://emulator:9000",
        region="eu-west-1",
        access_key_id="test",
        secret_access_key="test",
        kind=LOCALSTACK_KIND,
    )


def test_an_external_moto_server_is_known_by_its_api_and_gets_motos_credentials(
    moto_server: Emulator,
) -> None:
    endpoint = external_endpoint({"AWS_ENDPOINT_URL": moto_server.endpoint.url})
    assert endpoint is not None
    assert endpoint.kind is MOTO_KIND
    assert (endpoint.access_key_id, endpoint.secret_access_key) == ("testing", "testing")


def test_skylane_emulator_names_the_kind_and_the_users_keys_win() -> None:
    endpoint = external_endpoint(
        {
            "LOCALSTACK_HOST": "127.0.0.1:9",
            "SKYLANE_EMULATOR": "ministack",
            "AWS_ACCESS_KEY_ID": "mine",
            "AWS_SECRET_ACCESS_KEY": "secret",
        }
    )
    assert endpoint is not None
    assert endpoint.kind is MINISTACK_KIND
    assert (endpoint.access_key_id, endpoint.secret_access_key) == ("mine", "secret")


def test_an_unknown_emulator_name_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="known: localstack, ministack, moto"):
        start_emulator(environ={"SKYLANE_EMULATOR": "motto"})


def test_the_account_comes_from_the_emulators_sts(moto_server: Emulator) -> None:
    assert moto_server.endpoint.account_id() == "123456789012"


@pytest.mark.parametrize(
    ("host", "url"),
    [("localstack", "http://localstack:4566"), ("localstack:4510", "http://localstack:4510")],
)
def test_localstack_host_follows_localstack_clients_convention(host: str, url: str) -> None:
    endpoint = external_endpoint({"LOCALSTACK_HOST": host})
    assert endpoint is not None
    assert endpoint.url == url


def test_aws_endpoint_url_wins_over_localstack_host() -> None:
    endpoint = external_endpoint(
        {"AWS_ENDPOINT_URL": "http://mine:1234", "LOCALSTACK_HOST": "localstack"}
    )
    assert endpoint is not None
    assert endpoint.url == "http://mine:1234"


def test_port_comes_from_the_environment() -> None:
    assert configured_port({}) == DEFAULT_PORT
    assert configured_port({"SKYLANE_EMULATOR_PORT": "4700"}) == 4700


def test_env_points_boto3_at_the_endpoint() -> None:
    env = AwsEndpoint(url="http://127.0.0.1:4599").env()
    assert env == {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:4599",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }


def test_moto_answers_on_the_port_it_reports(moto_server: Emulator) -> None:
    assert moto_server.embedded
    url = f"{moto_server.endpoint.url}/moto-api/"
    with urllib.request.urlopen(url) as response:  # noqa: S310 (an http:// URL)
        assert response.status == 200
    sqs = moto_server.endpoint.client("sqs")
    assert sqs.create_queue(QueueName="probe")["QueueUrl"].endswith("/probe")


def test_an_external_endpoint_is_used_not_started(moto_server: Emulator) -> None:
    emulator = start_emulator(environ={"AWS_ENDPOINT_URL": moto_server.endpoint.url})
    assert not emulator.embedded
    assert emulator.endpoint.url == moto_server.endpoint.url
    emulator.stop()


def test_start_emulator_starts_moto_on_the_given_port() -> None:
    port = free_port()
    emulator = start_emulator(port=port, environ={})
    try:
        assert emulator.embedded
        assert emulator.endpoint.url == f"http://127.0.0.1:{port}"
    finally:
        emulator.stop()


# Another address of this machine's loopback network, standing in for Docker's bridge.
SECOND_ADDRESS = "127.0.0.2"


def test_the_same_emulator_answers_on_a_second_address_at_its_port() -> None:
    emulator = start_moto(port=0, also_on=[SECOND_ADDRESS])
    try:
        emulator.endpoint.client("sqs").create_queue(QueueName="made-on-loopback")
        other = AwsEndpoint(url=f"http://{SECOND_ADDRESS}:{emulator.port}")

        # One set of moto backends: what one server made, the other serves.
        seen = other.client("sqs").list_queues(QueueNamePrefix="made-on-loopback")["QueueUrls"]
        assert [url.rsplit("/", 1)[1] for url in seen] == ["made-on-loopback"]
        emulator.stop_listening(SECOND_ADDRESS)
        with pytest.raises(urllib.error.URLError, match="refused"):
            urllib.request.urlopen(f"{other.url}/moto-api/", timeout=2)  # noqa: S310
    finally:
        emulator.stop()


def test_an_address_already_taken_fails_instead_of_hanging(moto_server: Emulator) -> None:
    with pytest.raises(OSError, match="in use"):
        moto_server.listen_on("127.0.0.1")  # its own address and port, taken by itself


def test_an_emulator_on_every_address_listens_nowhere_else() -> None:
    emulator = start_emulator(
        port=0, environ={"SKYLANE_EMULATOR_HOST": "0.0.0.0"}, also_on=[SECOND_ADDRESS]
    )
    try:
        assert emulator.listeners == {}
    finally:
        emulator.stop()
