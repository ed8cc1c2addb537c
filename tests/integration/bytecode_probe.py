"""A probe run in a container: imports a module and lists the files under given folders that
the import system compiled from source instead of loading their shipped bytecode.

``python3 -c PROBE MODULE FOLDER [FOLDER ...]`` prints ``{"loaded": N, "from_source": [...]}``:
N modules loaded from those folders, and the sources among them that had no usable bytecode.
"""

import json
from typing import Any

PROBE = """
import importlib, importlib._bootstrap_external as external, json, sys
module, folders = sys.argv[1], tuple(sys.argv[2:])
compiled = []
source_to_code = external.SourceLoader.source_to_code
def recording(self, data, path, *args, **kwargs):
    compiled.append(path)
    return source_to_code(self, data, path, *args, **kwargs)
external.SourceLoader.source_to_code = recording
importlib.import_module(module)
shipped = [getattr(m, "__file__", None) or "" for m in list(sys.modules.values())]
print(json.dumps({"loaded": sum(f.startswith(folders) for f in shipped),
                  "from_source": [f for f in compiled if f.startswith(folders)]}))
"""


def probe_answer(stdout: str) -> dict[str, Any]:
    """The probe's answer: its last line of output."""
    answer: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return answer
