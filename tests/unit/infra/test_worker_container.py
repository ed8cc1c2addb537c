from pathlib import Path

from infra.template import TEMPLATE_PATH, load_template
from infra.worker_container import worker_container_command

# As ECS describes the template's worker container (moto keeps these fields as given).
DEFINITION = {
    "name": "worker",
    "readonlyRootFilesystem": True,
    "mountPoints": [{"sourceVolume": "scratch", "containerPath": "/tmp", "readOnly": False}],
    "stopTimeout": 120,
}
DOCKERFILE = Path(TEMPLATE_PATH).parent / "functions" / "worker" / "Dockerfile"


def test_the_container_runs_as_the_task_definition_says() -> None:
    argv = worker_container_command("skylane-worker:x86_64", "w1", DEFINITION, ["JOBS_TABLE"])
    assert argv[:2] == ["docker", "run"]
    assert argv[-1] == "skylane-worker:x86_64"
    assert "--read-only" in argv
    assert argv[argv.index("--mount") + 1] == "type=volume,target=/tmp"
    assert argv[argv.index("--stop-timeout") + 1] == "120"
    # Variables by name only: their values (credentials among them) stay off the command line.
    assert argv[argv.index("--env") + 1] == "JOBS_TABLE"


def test_a_writable_root_and_no_mounts_when_the_definition_has_none() -> None:
    argv = worker_container_command("image", "w2", {"name": "worker"}, [])
    assert "--read-only" not in argv
    assert "--mount" not in argv
    assert argv[argv.index("--stop-timeout") + 1] == "30"


def test_the_task_definition_and_the_image_agree_on_the_one_writable_path() -> None:
    task = load_template()["Resources"]["WorkerTaskDefinition"]["Properties"]
    container = task["ContainerDefinitions"][0]
    assert container["ReadonlyRootFilesystem"] is True
    writable = [mount["ContainerPath"] for mount in container["MountPoints"]]
    assert writable == ["/tmp"]
    assert {volume["Name"] for volume in task["Volumes"]} == {
        mount["SourceVolume"] for mount in container["MountPoints"]
    }
    # The image declares the same volume and runs as a numeric, non-root user.
    dockerfile = DOCKERFILE.read_text()
    assert 'VOLUME ["/tmp"]' in dockerfile
    user = next(line for line in dockerfile.splitlines() if line.startswith("USER "))
    uid = user.split()[1].split(":")[0]
    assert uid.isdigit()
    assert int(uid) != 0
