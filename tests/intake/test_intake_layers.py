"""The layers point one way: the engine knows nothing of the intake or the service, the intake
nothing of the service."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# run apart: CPython 3.11 (before 3.11.9) may refuse ast.parse in a process where an earlier test
# hit a RecursionError ("AST constructor recursion depth mismatch")
SCAN = """
import ast, json, sys
from pathlib import Path
out = {}
for path in sorted(Path(sys.argv[1]).rglob("*.py")):
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    out[str(path)] = sorted(names)
print(json.dumps(out))
"""


def _imported(package: str) -> dict[str, set[str]]:
    """Every top-level package each module of ``package`` imports (inside functions too)."""
    done = subprocess.run(
        [sys.executable, "-c", SCAN, str(ROOT / package)], capture_output=True, text=True, check=True
    )
    return {k: set(v) for k, v in json.loads(done.stdout).items()}


@pytest.mark.parametrize(("package", "forbidden"), [("engine", {"intake", "api"}), ("intake", {"api"})])
def test_a_layer_imports_nothing_above_it(package, forbidden):
    modules = _imported(package)
    offending = {module: names & forbidden for module, names in modules.items() if names & forbidden}
    assert offending == {}
    assert len(modules) > 5  # the walk found the package's modules
