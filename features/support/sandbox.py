"""A pytest of its own, in a temporary folder, for tests that must see what an officer sees:
the whole output of a run over feature files written for the test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def prepare(folder: Path) -> None:
    """A folder whose .feature files run with the project's steps (features/conftest.py)."""
    (folder / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n", encoding="utf-8")
    (folder / "conftest.py").write_text("from features.conftest import *  # noqa: F403\n", encoding="utf-8")


def run_pytest(args: list[str], cwd: Path) -> str:
    """pytest's output (stdout and stderr) for these arguments, the engine in process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("HUIQI_API_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return done.stdout + done.stderr
