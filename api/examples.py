"""Example request bodies for the OpenAPI document and for `make run`: the example enterprises in
``Settings.examples_dir`` (``tests/examples``: ``{as_of, profile}``)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any


@lru_cache
def load(examples_dir: Path) -> dict[str, dict[str, Any]]:
    out = {}
    if examples_dir.is_dir():
        for p in sorted(examples_dir.glob("*.json")):
            try:
                data = json.loads(p.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(data, dict) and isinstance(data.get("profile"), dict):
                out[p.stem] = data
    return out


def _summary(name: str, body: dict[str, Any]) -> str:
    return body["profile"].get("name") or name


def evaluation_examples(examples_dir: Path) -> dict[str, Any]:
    return {
        name: {
            "summary": _summary(name, body),
            "value": {"as_of": body.get("as_of"), "profile": body["profile"]},
        }
        for name, body in load(examples_dir).items()
    }


def enterprise_evaluation_examples() -> dict[str, Any]:
    return {
        "latest": {"summary": "最新版本画像，今天评估", "value": {}},
        "dated": {"summary": "第 1 版画像，指定评估日期", "value": {"version": 1, "as_of": "2025-06-30"}},
    }


def what_if_examples(examples_dir: Path) -> dict[str, Any]:
    out = {}
    for name, body in load(examples_dir).items():
        years = sorted(fy["year"] for fy in body["profile"].get("fiscal_years", []) if "year" in fy)
        if not years:
            continue
        out[name] = {
            "summary": f"{_summary(name, body)}：{years[-1]} 年研发费用增加 100 万元",
            "value": {
                "as_of": body.get("as_of"),
                "profile": body["profile"],
                "changes": [{"path": f"fiscal_years[{years[-1]}].rd_expense", "delta": 100}],
            },
        }
    return out


def profile_examples(examples_dir: Path) -> dict[str, Any]:
    return {
        name: {"summary": _summary(name, body), "value": body["profile"]}
        for name, body in load(examples_dir).items()
    }
