"""Nothing in the project points outside its checkout (issue 14).

The specs, field notes and seed text the project was built from lay in a folder beside the
repository, which a clone does not have; what the project needs of them is restated in
docs/contract.md and docs/engine.md (and the seed text is kept in rules/sources/). Every tracked
file is scanned for a path into that folder, and for the bare names of its files, which name no
file here (a mention is allowed again once a tracked file of that name exists).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().relative_to(ROOT).as_posix()  # its own patterns would match

# a path into the folder beside the repository
OUTSIDE = re.compile(rb"\.\./shared\b|/work/shared\b|\bshared/(?:spec|notes|seed|tools|hooks|style\.md)\b")
# the files of that folder, by their bare names
OUTSIDE_NAMES = ("profile.md", "measures.md", "durable-rules.md", "performance.md", "style.md")

# what a checkout holds that is not the project's (the fallback walk when there is no git)
NOT_PROJECT = {
    ".git",
    ".venv",
    "node_modules",
    "var",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    ".ruff_cache",
}


def walked_files() -> list[str]:
    out = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in NOT_PROJECT and not d.endswith(".egg-info")]
        out += [(Path(folder) / f).relative_to(ROOT).as_posix() for f in files]
    return sorted(out)


def tracked_files() -> list[str]:
    """``git ls-files``, or every file of the tree but tools' folders when this is no git checkout
    (an exported archive): the check must not depend on git being there."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
        ).stdout
    except (FileNotFoundError, subprocess.CalledProcessError):
        return walked_files()
    return sorted(name for name in listed.decode("utf-8").split("\0") if name)


def pointers(text: bytes, names: set[str]) -> list[str]:
    """The pointers outside the checkout in a file's text, as ``line N: …`` (``names``: the base
    names of the tracked files)."""
    bare = [n for n in OUTSIDE_NAMES if n not in names]
    bare_re = (
        re.compile(rb"(?<![\w.-])(?:" + b"|".join(re.escape(n.encode()) for n in bare) + rb")(?![\w-])")
        if bare
        else None
    )
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if OUTSIDE.search(line) or (bare_re is not None and bare_re.search(line)):
            found.append(f"line {number}: {line.decode('utf-8', 'replace').strip()[:120]}")
    return found


def _offenders(files: list[str]) -> dict[str, list[str]]:
    names = {Path(f).name for f in tracked_files()}
    out = {}
    for name in files:
        path = ROOT / name
        if not path.is_file() or path.is_symlink():
            continue  # deleted in the work tree but not yet in git, or a link
        found = pointers(path.read_bytes(), names)
        if found:
            out[name] = found
    return out


def test_no_tracked_file_points_outside_the_checkout():
    files = [f for f in tracked_files() if f != HERE]
    assert len(files) > 100, "the listing of the project's files came back nearly empty"
    offenders = _offenders(files)
    assert not offenders, "pointers outside the checkout (restate what is needed in docs/):\n" + "\n".join(
        f"{name}: {line}" for name, lines in offenders.items() for line in lines
    )


@pytest.mark.parametrize(
    "line",
    [
        b"see ../shared/spec/profile.md",
        b"[`profile.md`](../../shared/spec/profile.md)",
        b"the traps of /work/shared/notes/durable-rules.md",
        b"reference: (shared/spec/measures.md \xe6\x89\x80\xe8\xae\xb0)",
        b"a copy of shared/seed/",
        b"Y = the last fiscal year (profile.md).",
        b"as measures.md reads them",
    ],
)
def test_the_scan_finds_a_pointer(line):
    assert pointers(b"first line\n" + line + b"\n", set()) == [f"line 2: {line.decode().strip()[:120]}"]


@pytest.mark.parametrize(
    "line",
    [
        b"see docs/contract.md and docs/engine.md",
        b"api/shared_state.py, a shared/ folder of our own",
        b"the profile.md of docs/ once it exists",  # allowed when a tracked file bears the name
    ],
)
def test_the_scan_leaves_the_projects_own_paths_alone(line):
    assert pointers(line, {"profile.md"}) == []


def test_the_walk_without_git_finds_every_tracked_file():
    walked = set(walked_files())
    missing = [f for f in tracked_files() if (ROOT / f).is_file() and f not in walked]
    assert not missing, missing[:10]
