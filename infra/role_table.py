"""``python -m infra.role_table [--write]``: what each role may do, from template.yaml itself.

The README's table is this module's output (a unit test compares them), so it cannot drift
from the template: ``--write`` puts it between the README's role-table markers.
"""

import argparse
import re
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.utils.py27hash_fix import to_py27_compatible_template

from infra.template import REPO_ROOT, Template, load_template, with_placeholder_code

README = REPO_ROOT / "README.md"
START = "<!-- role-table:start -->"
END = "<!-- role-table:end -->"
# Who runs with each role, by the role's logical id in the transformed template.
ROLES = {
    "ApiFunctionRole": "API (ApiFunction)",
    "WorkerTaskRole": "worker (ECS task role)",
    "WorkerExecutionRole": "ECS agent (task execution role)",
    "SchedulerFunctionRole": "scheduler (SchedulerFunction)",
    "LightFunctionRole": "light lane (LightFunction)",
    "SchedulerInvokeRole": "EventBridge Scheduler, for the runtime schedules (SchedulerInvokeRole)",
}


def transformed_template() -> Template:
    """The SAM transform offline: policy templates expanded, as CloudFormation receives them."""
    template = with_placeholder_code(load_template(), "s3://placeholder/code.zip")
    to_py27_compatible_template(template, {})
    session = boto3.Session(region_name="us-east-1")
    translated: Template = Translator(None, Parser(), boto_session=session).translate(
        template, parameter_values={}, get_managed_policy_map=dict
    )
    return translated


def describe(value: Any) -> str:
    """An ARN expression as a reader would say it: HighQueue, UploadsBucket/*, ..."""
    if isinstance(value, list):
        return ", ".join(describe(item) for item in value)
    if isinstance(value, str):
        return value
    if "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    if "Ref" in value:
        return str(value["Ref"])
    if "Fn::Sub" in value:
        text = value["Fn::Sub"]
        if isinstance(text, list):
            text, variables = text
            for name, replacement in variables.items():
                text = text.replace(f"${{{name}}}", describe(replacement))
        text = re.sub(r"\$\{(\w+)\.Arn\}", r"\1", text)
        text = re.sub(
            r"arn:\$\{AWS::Partition\}:[^:]*:\$\{AWS::Region\}:\$\{AWS::AccountId\}:", "", text
        )
        return re.sub(r"\$\{AWS::(\w+)\}", r"<\1>", text)
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(describe(part) for part in parts)
    return str(value)


def rows(template: Template) -> Iterator[tuple[str, str, str]]:
    resources = template["Resources"]
    for logical_id, who in ROLES.items():
        properties = resources[logical_id]["Properties"]
        for arn in properties.get("ManagedPolicyArns", []):
            name = describe(arn).rsplit("/", 1)[-1]
            yield who, f"AWS managed policy {name}", "(AWS's own)"
        for policy in properties.get("Policies", []):
            statements = policy["PolicyDocument"]["Statement"]
            for statement in statements if isinstance(statements, list) else [statements]:
                actions = statement["Action"]
                actions = actions if isinstance(actions, list) else [actions]
                on = describe(statement["Resource"])
                for operator, condition in statement.get("Condition", {}).items():
                    for key, value in condition.items():
                        on += f" (only if {key} {operator} {describe(value)})"
                yield who, ", ".join(f"`{action}`" for action in actions), on


def table(template: Template | None = None) -> str:
    lines = ["| Role | May | On |", "| --- | --- | --- |"]
    lines += [
        f"| {who} | {may} | {on} |" for who, may, on in rows(template or transformed_template())
    ]
    return "\n".join(lines)


def readme_table(text: str) -> str:
    return text.split(START, 1)[1].split(END, 1)[0].strip()


def write_readme(generated: str) -> None:
    text = README.read_text()
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    README.write_text(f"{before}{START}\n{generated}\n{END}{after}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m infra.role_table", description=__doc__)
    parser.add_argument("--write", action="store_true", help="update README.md's table")
    args = parser.parse_args(argv)
    generated = table()
    if args.write:
        write_readme(generated)
    else:
        sys.stdout.write(generated + "\n")


if __name__ == "__main__":
    main()
