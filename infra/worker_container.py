"""The worker as the container ECS runs: the image, with the task definition's environment,
root filesystem, writable mounts and stop timeout, as the deployed stack describes them.

It shares this machine's network (it only calls the emulator on loopback), and ``docker run``
stays attached: the container's lines and exit code are this child's.
"""

import signal
import subprocess
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from infra.processes import ChildProcess, OutputSink

# ECS's default when a container definition sets no stopTimeout.
DEFAULT_STOP_TIMEOUT_SECONDS = 30


def stop_timeout(definition: Mapping[str, Any]) -> int:
    return int(definition.get("stopTimeout", DEFAULT_STOP_TIMEOUT_SECONDS))


def worker_container_command(
    image: str, name: str, definition: Mapping[str, Any], env_names: Sequence[str]
) -> list[str]:
    """``docker run`` for ``image`` as the ECS container ``definition`` describes it."""
    argv = ["docker", "run", "--rm", "--name", name, "--network", "host"]
    if definition.get("readonlyRootFilesystem"):
        argv.append("--read-only")
    # Each task volume starts empty, like Fargate's ephemeral storage; a fresh Docker volume
    # takes the image directory's owner and mode, as Fargate's bind mounts do.
    for mount in definition.get("mountPoints", []):
        readonly = ",readonly" if mount.get("readOnly") else ""
        argv += ["--mount", f"type=volume,target={mount['containerPath']}{readonly}"]
    argv += ["--stop-timeout", str(stop_timeout(definition))]
    # Names only: docker takes the values from its own environment, off the command line.
    for variable in env_names:
        argv += ["--env", variable]
    return [*argv, image]


class WorkerContainer(ChildProcess):
    """A worker container; signals go to the container's PID 1, as ECS sends them."""

    def __init__(
        self,
        name: str,
        image: str,
        definition: Mapping[str, Any],
        task_env: Mapping[str, str],
        docker_env: Mapping[str, str],
        output: OutputSink,
    ) -> None:
        # Unique, so a container left behind by an interrupted run never blocks this one.
        self.container_name = f"skylane-{name}-{uuid.uuid4().hex[:8]}"
        self.stop_timeout = stop_timeout(definition)
        argv = worker_container_command(image, self.container_name, definition, sorted(task_env))
        super().__init__(name, argv, {**docker_env, **task_env}, output)

    def docker(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["docker", *args], capture_output=True, text=True, check=False)

    def send_signal(self, signum: int) -> None:
        if self.running:
            self.docker("kill", "--signal", signal.Signals(signum).name, self.container_name)

    def kill(self) -> None:
        """SIGKILL the container (a dead task), then reap the attached ``docker run``."""
        self.docker("kill", self.container_name)
        super().kill()

    def docker_stop(self) -> int:
        """``docker stop``, as ECS stops a task: SIGTERM, SIGKILL after the stop timeout."""
        self.docker("stop", "--time", str(self.stop_timeout), self.container_name)
        return self.wait(timeout=30)
