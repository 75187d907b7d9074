"""Which criteria the policy features exercise, on each side: ``huiqi rules coverage``.

The feature scenarios (``features/``, run by pytest-bdd) record, for every evaluation they make,
the status of every criterion of every result. This module reads that record
(``var/feature-coverage.json`` by default) and lists, for each criterion of each measure, the
scenarios in which it was met and those in which it was not. Every criterion of a *published*
measure must have both, so that each threshold is held at least once on each side; the test suite
fails otherwise (features/test_rule_coverage.py).

Like the rest of the engine, nothing here knows a measure by name: the criteria come from the pack.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from .loader import DEFAULT_RULES_DIR, LintError, Pack, load_pack
from .schema import Leaf, Op, walk

ROOT = DEFAULT_RULES_DIR.parent
FEATURES_DIR = ROOT / "features"
DEFAULT_RECORD = ROOT / "var" / "feature-coverage.json"
RECORD_FORMAT = 1
SIDES = ("met", "unmet", "unknown", "manual_review")


# ------------------------------------------------------------------ tags the features may carry


def declared_tags(rules_dir: Path = DEFAULT_RULES_DIR) -> list[tuple[str, str]]:
    """(marker, description): ``<measure-id>`` per measure and ``clause-<criterion-id>`` per criterion.

    Read from the rule pack; if the pack does not load (a rule file in the making), from the raw
    YAML, so that the features still collect and show what fails.
    """
    tags: dict[str, list[str]] = {
        "national": ["国家规定 / national measures"],
        "shandong": ["山东省 / Shandong measures"],
        "jinan": ["济南市 / Jinan measures"],
        "published": ["依据公开条文的措施 / measures with published criteria"],
        "provisional": ["暂定口径的措施 / measures on a provisional reading"],
    }
    try:
        pack = load_pack(rules_dir)
        for mid, m in pack.measures.items():
            tags.setdefault(mid, []).append(m.title.zh)
            for node, _ in walk(m.criteria):
                tags.setdefault(f"clause-{node.id}", []).append(f"{mid}: {node.label.zh}")
    except (LintError, OSError):
        for path in sorted(Path(rules_dir).glob("*/*.yaml")):
            try:
                raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            except (yaml.YAMLError, OSError):
                continue
            mid = raw.get("id") or path.stem
            tags.setdefault(mid, []).append(str((raw.get("title") or {}).get("zh", mid)))
            for cid in _raw_ids(raw.get("criteria")):
                tags.setdefault(f"clause-{cid}", []).append(mid)
    return [(name, "; ".join(dict.fromkeys(d))) for name, d in sorted(tags.items())]


def measure_marks(rules_dir: Path = DEFAULT_RULES_DIR) -> dict[str, tuple[str, str]]:
    """measure id → (issuer, status), the marks a scenario of that measure carries besides its own tag."""
    try:
        return {mid: (m.issuer, m.status) for mid, m in load_pack(rules_dir).measures.items()}
    except (LintError, OSError):
        return {}


def _raw_ids(node: Any) -> list[str]:
    if isinstance(node, dict):
        out = [node["id"]] if isinstance(node.get("id"), str) else []
        for key in ("all", "any"):
            for child in node.get(key) or []:
                out += _raw_ids(child)
        if node.get("not") is not None:
            out += _raw_ids(node["not"])
        return out
    return []


# ------------------------------------------------------------------ the record the features write


def features_digest(features_dir: Path = FEATURES_DIR) -> str:
    digest = hashlib.sha256()
    for path in sorted(features_dir.rglob("*")):
        if path.suffix in (".feature", ".json") and path.is_file():
            digest.update(str(path.relative_to(features_dir)).encode())
            digest.update(path.read_bytes())
    return "sha256:" + digest.hexdigest()[:16]


def make_record(
    scenarios: list[dict], complete: bool, mode: str, features_dir: Path = FEATURES_DIR
) -> dict[str, Any]:
    """The JSON the features write at the end of a run (see features/conftest.py)."""
    try:
        version = load_pack().version
    except LintError:
        version = None
    return {
        "format": RECORD_FORMAT,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "rule_pack_version": version,
        "features_digest": features_digest(features_dir),
        "complete": complete,
        "mode": mode,
        "scenarios": scenarios,
    }


def load_record(path: Path = DEFAULT_RECORD) -> dict[str, Any] | None:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == RECORD_FORMAT else None


def stale_reason(record: dict[str, Any] | None, pack: Pack, features_dir: Path = FEATURES_DIR) -> str | None:
    """Why a record cannot be trusted for this pack and these features, or None."""
    if record is None:
        return "尚无记录 / no record yet"
    if not record.get("complete"):
        return "记录来自部分场景（-m/-k 等筛选）/ the record is from a partial run"
    if record.get("rule_pack_version") != pack.version:
        return "规则包已更改 / the rule pack changed"
    if features_dir.exists() and record.get("features_digest") != features_digest(features_dir):
        return "场景文件已更改 / the feature files changed"
    return None


def run_features(record_path: Path = DEFAULT_RECORD, extra: list[str] | None = None) -> int:
    """Run every feature scenario (pytest) so that it writes a fresh record; returns pytest's exit code."""
    if not FEATURES_DIR.exists():
        raise FileNotFoundError(f"{FEATURES_DIR} not found: coverage needs a source checkout with features/")
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        str(FEATURES_DIR),
        "-q",
        "--no-header",
        "-p",
        "no:cacheprovider",
        f"--huiqi-coverage-record={record_path}",
        *(extra or []),
    ]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    return done.returncode


# ------------------------------------------------------------------ the report


def report(pack: Pack, record: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One row per criterion (leaf) of every measure, with the passing scenarios that exercised each side."""
    seen: dict[tuple[str, str], dict[str, list[str]]] = {}
    for sc in (record or {}).get("scenarios", []):
        if not sc.get("passed"):
            continue
        for ev in sc.get("evaluations", []):
            for cid, status in ev.get("criteria", {}).items():
                sides = seen.setdefault((ev["measure_id"], cid), {s: [] for s in SIDES})
                if status in sides and sc["scenario"] not in sides[status]:
                    sides[status].append(sc["scenario"])
    rows = []
    order = sorted(pack.measures.values(), key=lambda m: (m.issuer != "national", m.issuer, m.id))
    for m in order:
        for node, _ in walk(m.criteria):
            if not isinstance(node, Leaf):
                continue
            sides = seen.get((m.id, node.id), {s: [] for s in SIDES})
            for side in SIDES:  # the measure's own feature first
                sides[side].sort(key=lambda sc, mid=m.id: not _feature_of(sc).endswith(f"/{mid}.feature"))
            manual = node.op is Op.manual
            rows.append(
                {
                    "measure_id": m.id,
                    "measure_title": m.title.zh,
                    "measure_status": m.status,
                    "criterion_id": node.id,
                    "label": node.label.zh,
                    "clause": node.clause,
                    "manual": manual,
                    **{side: sides[side] for side in SIDES},
                    # a criterion a person judges has no automatic sides to hold
                    "covered": manual or bool(sides["met"] and sides["unmet"]),
                }
            )
    return rows


def uncovered(rows: list[dict[str, Any]], published_only: bool = True) -> list[dict[str, Any]]:
    return [
        r for r in rows if not r["covered"] and (r["measure_status"] == "published" or not published_only)
    ]


def describe_gaps(rows: list[dict[str, Any]]) -> str:
    lines = []
    for r in rows:
        lacking = [w for side, w in (("met", "满足 / met"), ("unmet", "不满足 / unmet")) if not r[side]]
        lines.append(
            f"  {r['measure_id']} · {r['criterion_id']}（{r['label']}，{r['clause']}）缺少 / lacks: "
            + "、".join(lacking)
        )
    return "\n".join(lines)


def render(rows: list[dict[str, Any]], console: Any, verbose: bool = False) -> None:
    """A table per measure: each criterion, its clause, and the scenarios on each side."""
    from rich.table import Table

    by_measure: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_measure.setdefault(r["measure_id"], []).append(r)
    for mid, items in by_measure.items():
        first = items[0]
        done = sum(1 for r in items if r["covered"])
        status = "已公布 / published" if first["measure_status"] == "published" else "暂定 / provisional"
        table = Table(
            title=f"{first['measure_title']} [dim]{mid}[/] · {status} · {done}/{len(items)}",
            title_justify="left",
            show_lines=True,
        )
        table.add_column("", no_wrap=True)
        table.add_column("条件 / criterion")
        table.add_column("条款 / clause")
        table.add_column("满足 / met")
        table.add_column("不满足 / unmet")
        for r in items:
            if r["manual"]:
                mark = "[dim]人工[/]"
            elif r["covered"]:
                mark = "[green]✔[/]"
            else:
                mark = "[red]✘[/]" if r["measure_status"] == "published" else "[yellow]![/]"
            table.add_row(
                mark,
                f"{r['label']}\n[dim]{r['criterion_id']}[/]",
                r["clause"],
                _side(r["met"], r["measure_id"], verbose),
                _side(r["unmet"], r["measure_id"], verbose),
            )
        console.print(table)
    published = [r for r in rows if r["measure_status"] == "published"]
    provisional = [r for r in rows if r["measure_status"] != "published"]
    console.print(
        f"已公布措施 / published: {sum(r['covered'] for r in published)}/{len(published)} 个条件两侧均有场景；"
        f"暂定措施 / provisional: {sum(r['covered'] for r in provisional)}/{len(provisional)}"
    )


def _feature_of(scenario: str) -> str:
    return scenario.partition(" ")[0].rpartition(":")[0]


def short_name(scenario: str, measure_id: str) -> str:
    """'national/hte-recognition.feature:42 名称 [例子]' → 'L42 名称 [例子]' in that measure's own table."""
    head, _, rest = scenario.partition(" ")
    feature, _, line = head.rpartition(":")
    if not line.isdigit():
        return scenario
    own = feature.endswith(f"/{measure_id}.feature")
    return (
        f"L{line} {rest}" if own else f"{feature.rpartition('/')[2].removesuffix('.feature')} L{line} {rest}"
    )


def _side(scenarios: list[str], measure_id: str, verbose: bool) -> str:
    if not scenarios:
        return "[red]—[/]"
    names = [short_name(s, measure_id) for s in scenarios]
    if verbose:
        return "\n".join(names)
    shown = names[0] if len(names[0]) <= 60 else names[0][:59] + "…"
    more = len(names) - 1
    return shown + (f"\n[dim]（共 {len(names)} 个场景 / {len(names)} scenarios）[/]" if more > 0 else "")
