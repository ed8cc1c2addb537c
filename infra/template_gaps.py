"""An emulator's declared gaps (infra/emulators.py) applied to the transformed template.

Only the copy that emulator receives changes: left-out resources go with every resource and
output that refers to them (Ref, Fn::GetAtt, Fn::Sub; a DependsOn on them is dropped), and
adapted properties are rewritten. The template itself, and so what AWS gets, stays as it is.
"""

import copy
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from infra.emulators import EmulatorKind

Template = dict[str, Any]
_SUB_NAME = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")


@dataclass(frozen=True)
class Applied:
    template: Template
    # Logical id -> why it is not in the emulator's stack (the gap, or the resource it needs).
    left_out: dict[str, str]
    # Logical id -> the reason its properties were adapted.
    adapted: dict[str, str]


def references(value: Any) -> Iterator[str]:
    """The logical ids (or parameters) a template fragment refers to."""
    if isinstance(value, list):
        for item in value:
            yield from references(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                yield item
            elif key == "Fn::GetAtt":
                target = item[0] if isinstance(item, list) else str(item).split(".", 1)[0]
                yield target
            elif key == "Fn::Sub":
                text = item[0] if isinstance(item, list) else item
                if isinstance(text, str):
                    yield from _SUB_NAME.findall(text)
                if isinstance(item, list):
                    yield from references(item[1:])
            else:
                yield from references(item)


def _depends_on(resource: Mapping[str, Any]) -> set[str]:
    depends = resource.get("DependsOn", [])
    return {depends} if isinstance(depends, str) else set(depends)


def apply_gaps(template: Template, kind: EmulatorKind, parameters: Mapping[str, str]) -> Applied:
    """The template as ``kind`` can create it."""
    adapted_template = copy.deepcopy(template)
    resources: dict[str, Any] = adapted_template.get("Resources", {})
    left_out: dict[str, str] = {}
    for logical_id, resource in resources.items():
        for gap in kind.left_out:
            if gap.matches(resource):
                left_out[logical_id] = gap.reason
                break
    # Dependents of what is left out, until none is left.
    changed = True
    while changed:
        changed = False
        for logical_id, resource in resources.items():
            if logical_id in left_out:
                continue
            needed = set(references(resource)) & left_out.keys()
            if needed:
                left_out[logical_id] = f"refers to {', '.join(sorted(needed))}, left out"
                changed = True
    for logical_id in left_out:
        del resources[logical_id]
    for resource in resources.values():
        depends = _depends_on(resource)
        if depends & left_out.keys():
            resource["DependsOn"] = sorted(depends - left_out.keys())
    outputs: dict[str, Any] = adapted_template.get("Outputs", {})
    for name in [name for name, out in outputs.items() if set(references(out)) & left_out.keys()]:
        del outputs[name]

    values = {
        name: str(parameter["Default"])
        for name, parameter in template.get("Parameters", {}).items()
        if "Default" in parameter
    } | dict(parameters)
    adapted: dict[str, str] = {}
    for logical_id, resource in resources.items():
        for adaptation in kind.adaptations:
            if resource.get("Type") == adaptation.resource_type:
                adaptation.adapt(resource, values)
                adapted[logical_id] = adaptation.reason
    return Applied(adapted_template, left_out, adapted)
