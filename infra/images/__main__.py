"""``python -m infra.images``: build (or reuse) every image the tests and ``sam local`` run.

Needs a running engine: ``python -m infra.images.engine -- python -m infra.images`` starts one.
"""

import argparse
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from infra.images.build import (
    ARCHITECTURES,
    Architecture,
    build_worker,
    ensure_lambda_runtime,
    ensure_python_base,
)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m infra.images", description=__doc__)
    parser.add_argument(
        "--arch",
        action="append",
        choices=sorted(ARCHITECTURES),
        help="architecture to build for (repeatable; default: x86_64 and arm64)",
    )
    parser.add_argument(
        "--only",
        choices=("worker", "lambda-runtime"),
        help="build just the worker image or just the Lambda runtime stand-in",
    )
    return parser.parse_args(argv)


def build_all(arch: Architecture, only: str | None) -> list[str]:
    built = [ensure_python_base(arch)]
    if only in (None, "lambda-runtime"):
        built.append(ensure_lambda_runtime(arch))
    if only in (None, "worker"):
        built.append(build_worker(arch))
    return built


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    arches = [ARCHITECTURES[name] for name in args.arch or sorted(ARCHITECTURES, reverse=True)]
    # Two architectures in parallel: the arm64 one runs its package scripts under qemu for minutes.
    with ThreadPoolExecutor(max_workers=len(arches)) as pool:
        results = list(pool.map(lambda arch: build_all(arch, args.only), arches))
    for tags in results:
        print("ready: " + ", ".join(tags), flush=True)


if __name__ == "__main__":
    main()
