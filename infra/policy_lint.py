"""``python -m infra.policy_lint``: parliament's IAM checks on every role policy of the template.

The transformed template's policies, with intrinsics resolved to ARNs of the right shape, are
analyzed offline by parliament (in a tool environment of its own, pinned below). A finding
fails the run unless it is listed in JUSTIFIED with its reason.
"""

import json
import re
import subprocess
import sys
from typing import Any

from infra.role_table import ROLES, transformed_template
from infra.template import REPO_ROOT, Template

UV = REPO_ROOT / ".local" / "tools" / "bin" / "uv"
PARLIAMENT = ["parliament==1.6.4", "setuptools<81"]  # parliament imports pkg_resources
ACCOUNT, REGION = "123456789012", "us-east-1"
PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::StackName": "skylane",
}
# (role, issue, action): why the finding stands.
JUSTIFIED: dict[tuple[str, str, str], str] = {}
ANALYZE = """
import json, sys, warnings
warnings.simplefilter("ignore")
from parliament import analyze_policy_string
found = []
for name, policy in json.load(sys.stdin).items():
    for finding in analyze_policy_string(policy).findings:
        found.append({"policy": name, "issue": finding.issue, "detail": finding.detail})
json.dump(found, sys.stdout)
"""


def arn_of(logical_id: str, resource_type: str) -> str:
    name = logical_id.lower()
    return {
        "AWS::SQS::Queue": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}",
        "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}",
        "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
        "AWS::Logs::LogGroup": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}:*",
        "AWS::SNS::Topic": f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}",
        "AWS::Lambda::Function": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
    }.get(resource_type, f"arn:aws:iam::{ACCOUNT}:role/{name}")


def resolve(value: Any, resources: dict[str, Any]) -> Any:
    """Intrinsics as plausible values: ARNs of the right shape, names, pseudo parameters."""

    def ref(name: str) -> str:
        if name in PSEUDO:
            return PSEUDO[name]
        if name not in resources:
            return f"parameter-{name.lower()}"
        resource_type = resources[name]["Type"]
        arn = arn_of(name, resource_type)
        # Ref gives a topic's ARN, a queue's URL, the others' names.
        return arn if resource_type == "AWS::SNS::Topic" else arn.rsplit(":", 1)[-1].split("/")[-1]

    def get_att(name: str, attribute: str) -> str:
        arn = arn_of(name, resources[name]["Type"])
        return arn if attribute == "Arn" else arn.rsplit(":", 1)[-1]

    def substitute(text: str, variables: dict[str, Any]) -> str:
        def one(match: re.Match[str]) -> str:
            token = match.group(1)
            if token in variables:
                return str(resolve(variables[token], resources))
            if "." in token:
                return get_att(*token.split(".", 1))
            return ref(token)

        return re.sub(r"\$\{([^}]+)\}", one, text)

    if isinstance(value, list):
        return [resolve(item, resources) for item in value]
    if not isinstance(value, dict):
        return value
    if "Ref" in value:
        return ref(value["Ref"])
    if "Fn::GetAtt" in value:
        return get_att(*value["Fn::GetAtt"])
    if "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        text, variables = (sub, {}) if isinstance(sub, str) else sub
        return substitute(text, variables)
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(str(resolve(part, resources)) for part in parts)
    return {key: resolve(item, resources) for key, item in value.items()}


def role_policies(template: Template) -> dict[str, str]:
    """Every inline policy of the roles in ROLES, resolved, as JSON by "role/policy"."""
    resources = template["Resources"]
    policies = {}
    for logical_id in ROLES:
        for policy in resources[logical_id]["Properties"].get("Policies", []):
            document = resolve(policy["PolicyDocument"], resources)
            document.setdefault("Version", "2012-10-17")
            policies[f"{logical_id}/{policy['PolicyName']}"] = json.dumps(document)
    return policies


def analyze(policies: dict[str, str]) -> list[dict[str, Any]]:
    analyzed = subprocess.run(
        [
            str(UV),
            "tool",
            "run",
            "--quiet",
            *(f"--with={requirement}" for requirement in PARLIAMENT[1:]),
            "--from",
            PARLIAMENT[0],
            "python",
            "-c",
            ANALYZE,
        ],
        input=json.dumps(policies),
        capture_output=True,
        text=True,
        check=True,
    )
    findings: list[dict[str, Any]] = json.loads(analyzed.stdout)
    return findings


def unjustified(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def key(finding: dict[str, Any]) -> tuple[str, str, str]:
        detail = finding["detail"]
        action = detail[0].get("action", "") if isinstance(detail, list) and detail else ""
        return (finding["policy"].split("/")[0], finding["issue"], action)

    return [finding for finding in findings if key(finding) not in JUSTIFIED]


def main() -> int:
    policies = role_policies(transformed_template())
    open_findings = unjustified(analyze(policies))
    for finding in open_findings:
        print(f"{finding['policy']}: {finding['issue']} {finding['detail']}", file=sys.stderr)
    print(f"parliament: {len(policies)} policies, {len(open_findings)} unjustified findings")
    return 1 if open_findings else 0


if __name__ == "__main__":
    sys.exit(main())
