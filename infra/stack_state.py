"""``.local/stack.json``: what a command needs to reach the running local stack.

``make up`` writes it once the stack is running and removes it when it stops, so a command
never talks to a stack that is gone. Tests write their own for the test stack.
"""

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.processes import REPO_ROOT

if TYPE_CHECKING:
    from infra.emulator import AwsEndpoint
    from infra.template import DeployedStack

STATE_PATH = REPO_ROOT / ".local" / "stack.json"


class StackNotRunning(LookupError):
    """No local stack answers where the state file says (or there is no state file)."""


@dataclass(frozen=True)
class StackState:
    stack_name: str
    region: str
    # AWS_ENDPOINT_URL, credentials and region of the emulator.
    endpoint_env: dict[str, str]
    # "api", "worker" and every function by logical id: the environment the template gives it.
    components: dict[str, dict[str, str]]
    outputs: dict[str, str]
    # When the stack started: rate schedules count their periods from here.
    started_at: str
    api_url: str | None = None

    @property
    def endpoint_url(self) -> str:
        return self.endpoint_env["AWS_ENDPOINT_URL"]

    @property
    def start(self) -> datetime:
        return datetime.fromisoformat(self.started_at)

    def component_env(self, component: str) -> dict[str, str]:
        try:
            return self.components[component]
        except KeyError:
            known = ", ".join(sorted(self.components))
            raise KeyError(f"no component {component!r} in the stack (known: {known})") from None

    def write(self, path: Path = STATE_PATH) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        return path

    @classmethod
    def read(cls, path: Path = STATE_PATH) -> "StackState":
        try:
            data: dict[str, Any] = json.loads(path.read_text())
        except FileNotFoundError:
            raise StackNotRunning(
                f"no local stack is running ({path} does not exist): start one with `make up`"
            ) from None
        return cls(**data)

    def check_reachable(self, timeout: float = 3.0) -> None:
        """Fail fast, and say so, when the emulator behind the state is gone."""
        try:
            with urllib.request.urlopen(self.endpoint_url, timeout=timeout):  # noqa: S310
                return
        except urllib.error.HTTPError:
            return  # any HTTP answer means the emulator is up
        except OSError as error:
            raise StackNotRunning(
                f"the local stack {self.stack_name} does not answer at {self.endpoint_url} "
                f"({error}): is `make up` still running?"
            ) from error


def from_deployed(
    stack: "DeployedStack",
    endpoint: "AwsEndpoint",
    started_at: datetime,
    api_url: str | None = None,
    credentials: Mapping[str, Mapping[str, str]] | None = None,
) -> StackState:
    """The state of a running stack; ``credentials`` are each component's own, if it has any."""
    environments = {"api": stack.api_env, "worker": stack.worker_env, **stack.function_envs}
    return StackState(
        stack_name=stack.stack_name,
        region=endpoint.region,
        endpoint_env=endpoint.env(),
        components={
            name: {**env, **(credentials or {}).get(name, {})} for name, env in environments.items()
        },
        outputs=stack.outputs,
        started_at=started_at.isoformat(),
        api_url=api_url,
    )
