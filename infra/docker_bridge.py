"""How containers on this machine's Docker engine reach the local stack: host.docker.internal.

SAM CLI maps the alias to the default bridge's gateway (``--add-host ...:host-gateway``). On
Linux that is this machine's docker0 address, where the emulator listens too (the bridge
reaches only this machine and its containers); Docker Desktop forwards it to loopback.
"""

import ipaddress
import json
import shutil
import socket
import subprocess

DOCKER_HOST_ALIAS = "host.docker.internal"
# SAM CLI's --add-host value: the alias on the bridge's gateway, whatever engine runs.
ADD_HOST = f"{DOCKER_HOST_ALIAS}:host-gateway"
DOCKER_TIMEOUT_SECONDS = 10.0


def bridge_gateway() -> str | None:
    """The default bridge network's gateway, or None when no engine answers.

    Docker 20.10 leaves the default bridge's Gateway out of ``network inspect``; it is then the
    subnet's first address, which is what dockerd gives docker0 (``--bip`` aside, which
    sets Gateway).
    """
    if shutil.which("docker") is None:
        return None
    try:
        inspected = subprocess.run(
            ["docker", "network", "inspect", "bridge", "--format", "{{json .IPAM.Config}}"],
            capture_output=True,
            text=True,
            check=False,
            timeout=DOCKER_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        return None
    if inspected.returncode != 0:
        return None
    return gateway_of(json.loads(inspected.stdout) or [])


def gateway_of(ipam_configs: list[dict[str, str]]) -> str | None:
    """The IPv4 gateway a network's IPAM configs name, or their subnet's first address."""
    for config in ipam_configs:
        if config.get("Gateway"):
            return str(config["Gateway"])
        subnet = config.get("Subnet")
        if subnet:
            network = ipaddress.ip_network(subnet, strict=False)
            if network.version == 4:
                return str(network.network_address + 1)
    return None


def is_local_address(address: str) -> bool:
    """Whether ``address`` belongs to this machine (a server here can bind it)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family) as probe:
        try:
            probe.bind((address, 0))
        except OSError:
            return False
    return True


def host_addresses_for_containers() -> list[str]:
    """The addresses beyond loopback a server must listen on for containers to reach it:
    the bridge's gateway on Docker on Linux, none on Docker Desktop or without an engine."""
    gateway = bridge_gateway()
    if gateway is None or not is_local_address(gateway):
        return []
    return [gateway]
