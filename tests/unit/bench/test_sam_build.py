"""bench/sam_build.py reads from make's echo whether a build installed dependencies."""

from bench.sam_build import dependency_installs

# make's echo of a cold build-ApiFunction, as sam build passes it on (abridged).
COLD = """\
rm -rf .aws-sam/function-deps/ApiFunction && mkdir -p .aws-sam/function-deps/ApiFunction
.local/tools/bin/uv export --frozen --no-dev --group api --no-emit-project --no-hashes --quiet \\
\t| grep -Ev '^(boto3|botocore|s3transfer|jmespath)==' \\
\t> .aws-sam/function-deps/ApiFunction.requirements.txt
.local/tools/bin/uv pip install --quiet --no-deps --python-platform aarch64-manylinux_2_28 \\
\t--python-version 3.13 --only-binary :all: --target .aws-sam/function-deps/ApiFunction \\
\t-r .aws-sam/function-deps/ApiFunction.requirements.txt
touch .aws-sam/function-deps/ApiFunction.installed
cp -al .aws-sam/function-deps/ApiFunction/. /work/main/.aws-sam/build/ApiFunction/
"""
WARM = """\
cp -al .aws-sam/function-deps/ApiFunction/. /work/main/.aws-sam/build/ApiFunction/
mkdir -p /work/main/.aws-sam/build/ApiFunction/functions
cp -r skylane /work/main/.aws-sam/build/ApiFunction/
"""


def test_a_cold_build_installs_once_per_function() -> None:
    assert dependency_installs(COLD) == 1
    assert dependency_installs(COLD + COLD.replace("ApiFunction", "LightFunction")) == 2


def test_a_warm_build_installs_nothing() -> None:
    assert dependency_installs(WARM) == 0


def test_only_the_command_counts_not_a_mention_of_it() -> None:
    # A recipe comment or a log line naming the command is no install.
    assert dependency_installs("# the deps come from `uv pip install` (cached)\n") == 0
