"""The layers point one way: the engine knows nothing of the intake or the service, the intake
nothing of the service."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imported(package: str) -> dict[str, set[str]]:
    """Every top-level package each module of ``package`` imports (inside functions too)."""
    out = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        out[str(path.relative_to(ROOT))] = names
    return out


@pytest.mark.parametrize(("package", "forbidden"), [("engine", {"intake", "api"}), ("intake", {"api"})])
def test_a_layer_imports_nothing_above_it(package, forbidden):
    offending = {module: names & forbidden for module, names in _imported(package).items() if names & forbidden}
    assert offending == {}
    assert len(_imported(package)) > 5  # the walk found the package's modules
