from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from engine import Engine

EXAMPLES = Path(__file__).parent / "examples"


def load_example(name: str) -> dict:
    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session", params=["durable", "python"])
def engine(request) -> Engine:
    """The engine on each backend: every behaviour test runs on both."""
    return Engine(backend=request.param)


@pytest.fixture(scope="session")
def durable_engine() -> Engine:
    return Engine(backend="durable")


@pytest.fixture
def established() -> dict:
    return copy.deepcopy(load_example("enterprise-established"))


@pytest.fixture
def young() -> dict:
    return copy.deepcopy(load_example("enterprise-young-incomplete"))


def outcome(result: dict, measure_id: str, subject_id: str | None = None) -> str:
    for r in result["results"]:
        if r["measure_id"] == measure_id and r["subject"].get("id") == subject_id:
            return r["outcome"]
    raise AssertionError(f"no result for {measure_id} / {subject_id}")


def criterion(result: dict, measure_id: str, criterion_id: str, subject_id: str | None = None) -> dict:
    for r in result["results"]:
        if r["measure_id"] == measure_id and r["subject"].get("id") == subject_id:
            for c in r["criteria"]:
                if c["id"] == criterion_id:
                    return c
    raise AssertionError(f"no criterion {criterion_id} in {measure_id}")
