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
    scenarios: list[dict],
    complete: bool,
    mode: str,
    features_dir: Path = FEATURES_DIR,
    other_failures: list[dict] | None = None,
) -> dict[str, Any]:
    """The JSON the features write at the end of a run (see features/conftest.py).

    ``scenarios``: one entry per scenario (``passed``, ``failed``, the ``failure`` in a line, the
    criteria each evaluation exercised); ``other_failures``: the tests of the run that are not
    scenarios and failed (a house rule of the feature files, the coverage gate), ``nodeid`` and ``failure``.
    """
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
        "other_failures": other_failures or [],
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


def run_features(
    record_path: Path = DEFAULT_RECORD, extra: list[str] | None = None, features_dir: Path = FEATURES_DIR
) -> tuple[int, str]:
    """Run every feature scenario (pytest) so that it writes a fresh record; pytest's exit code and output."""
    if not features_dir.exists():
        raise FileNotFoundError(f"{features_dir} not found: coverage needs a source checkout with features/")
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        str(features_dir),
        "-q",
        "--no-header",
        "-p",
        "no:cacheprovider",
        f"--huiqi-coverage-record={record_path}",
        *(extra or []),
    ]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    return done.returncode, done.stdout + done.stderr


def failed_scenarios(record: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The scenarios of a record that failed (an expected failure, @known-engine-bug, is not one)."""
    return [sc for sc in (record or {}).get("scenarios", []) if sc.get("failed")]


def _rerun_command(paths: list[str]) -> str:
    python = Path(sys.executable)
    shown = python.relative_to(ROOT).as_posix() if python.is_relative_to(ROOT) else str(python)
    return f"{shown} -m pytest " + " ".join(paths)


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


SHOWN_PER_SIDE = 3  # scenarios listed on each side of a criterion without --verbose


def render(rows: list[dict[str, Any]], console: Any, verbose: bool = False) -> None:
    """Each measure, each criterion with its clause, and the scenarios on each side, one per line.

    Laid out for a terminal of any width (80 columns too): long names wrap, none is cut; without
    ``verbose`` each side lists its first scenarios (the measure's own file first) and says how many more.
    """
    from rich.markup import escape
    from rich.table import Table

    by_measure: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_measure.setdefault(r["measure_id"], []).append(r)
    for mid, items in by_measure.items():
        first = items[0]
        done = sum(1 for r in items if r["covered"])
        status = "已公布 / published" if first["measure_status"] == "published" else "暂定 / provisional"
        console.print()
        console.print(
            f"[bold]{escape(first['measure_title'])}[/] [dim]{mid}[/] · {status} · "
            f"{done}/{len(items)} 个条件两侧均有场景 / criteria held on both sides"
        )
        for r in items:
            if r["manual"]:
                mark = "[dim]人工[/]"
            elif r["covered"]:
                mark = "[green]✔[/]"
            else:
                mark = "[red]✘[/]" if r["measure_status"] == "published" else "[yellow]![/]"
            console.print(
                f"{mark} {escape(r['label'])} [dim]· {r['criterion_id']} · {escape(r['clause'] or '')}[/]"
            )
            if r["manual"]:
                console.print("    [dim]由人判断，不需要两侧的场景 / judged by a person[/]")
                continue
            grid = Table.grid(padding=(0, 1))
            grid.add_column(width=2)
            grid.add_column(no_wrap=True)
            grid.add_column(overflow="fold")
            for side, words in (("met", "满足 / met"), ("unmet", "不满足 / unmet")):
                grid.add_row("", f"{words} ({len(r[side])})", _side(r[side], r["measure_id"], verbose))
            console.print(grid)
    published = [r for r in rows if r["measure_status"] == "published"]
    provisional = [r for r in rows if r["measure_status"] != "published"]
    console.print()
    console.print(
        f"已公布措施 / published: {sum(r['covered'] for r in published)}/{len(published)} 个条件两侧均有场景；"
        f"暂定措施 / provisional: {sum(r['covered'] for r in provisional)}/{len(provisional)}"
    )


def _feature_of(scenario: str) -> str:
    return scenario.partition(" ")[0].rpartition(":")[0]


def short_name(scenario: str, measure_id: str) -> str:
    """'national/hte-recognition.feature:42 名称 [例子]' → 'L42·名称 [例子]' in that measure's own list."""
    head, _, rest = scenario.partition(" ")
    feature, _, line = head.rpartition(":")
    if not line.isdigit():
        return scenario
    own = feature.endswith(f"/{measure_id}.feature")
    # 'L42·名称': a line of Chinese has no spaces to wrap at, so the number stays with the name
    return (
        f"L{line}·{rest}" if own else f"{feature.rpartition('/')[2].removesuffix('.feature')} L{line}·{rest}"
    )


def _side(scenarios: list[str], measure_id: str, verbose: bool) -> str:
    from rich.markup import escape

    if not scenarios:
        return "[red]— 没有场景 / none[/]"
    names = [escape(short_name(s, measure_id)) for s in scenarios]
    if verbose or len(names) <= SHOWN_PER_SIDE:
        return "\n".join(names)
    more = len(names) - SHOWN_PER_SIDE
    return (
        "\n".join(names[:SHOWN_PER_SIDE])
        + f"\n[dim]……另 {more} 个（-v 列出全部）/ {more} more (-v lists all)[/]"
    )


# ------------------------------------------------------------------ `huiqi rules coverage`


def command(
    *,
    run: bool | None,
    record: Path | None,
    measures: list[str],
    verbose: bool,
    as_json: bool,
    out: Any,
    err: Any,
    features_dir: Path = FEATURES_DIR,
) -> int:
    """The body of ``huiqi rules coverage``; returns its exit code.

    0: every published criterion is held on both sides and no scenario fails; 1: a published criterion
    lacks a side, or scenarios (or the checks of the feature files) fail, each named; 2: the features
    could not run; 3: the rule pack does not load.
    """
    try:
        pack = load_pack()
    except LintError as e:
        err.print("[red]规则包未通过检查 / the rule pack fails lint:[/]")
        for problem in e.problems:
            err.print(f"  {problem}", markup=False)
        return 3
    unknown = [m for m in measures if m not in pack.measures]
    if unknown:
        err.print(f"[red]未知措施 / unknown measure: {', '.join(unknown)}[/]")
        return 2
    path = record or DEFAULT_RECORD
    data = load_record(path)
    stale = stale_reason(data, pack, features_dir)
    if run or (run is None and stale):
        err.print(f"运行全部场景 / running the features（{stale or '--run'}）…")
        try:
            code, output = run_features(path, features_dir=features_dir)
        except FileNotFoundError as e:
            err.print(str(e), markup=False, style="red")
            return 2
        data = load_record(path)
        if code not in (0, 1) or data is None:
            err.print(
                f"[red]场景未能运行 / the features did not run (pytest exit {code})；pytest 的输出 / its output:[/]"
            )
            err.print("\n".join(output.rstrip().splitlines()[-40:]), markup=False)
            return 2
        stale = stale_reason(data, pack, features_dir)
    if stale:
        err.print(f"[yellow]注意 / note: {stale}[/]")
    rows = report(pack, data)
    if measures:
        rows = [r for r in rows if r["measure_id"] in measures]
    gaps = uncovered(rows)
    failed = failed_scenarios(data)
    others = (data or {}).get("other_failures", [])
    if as_json:
        sys.stdout.write(
            json.dumps(
                {
                    "criteria": rows,
                    "uncovered": gaps,
                    "failed": [{k: sc.get(k) for k in ("scenario", "nodeid", "failure")} for sc in failed],
                    "other_failures": others,
                },
                ensure_ascii=False,
                indent=2,
            )
            + "\n"
        )
    else:
        render(rows, out, verbose)
        provisional_gaps = [r for r in uncovered(rows, published_only=False) if r not in gaps]
        if provisional_gaps:
            out.print(
                f"[yellow]暂定措施中 {len(provisional_gaps)} 个条件缺少一侧的场景 / provisional criteria lacking a side[/]"
            )
        if gaps:
            err.print(
                "[red]已公布措施的条件缺少满足或不满足一侧的场景 / published criteria lacking a side:[/]"
            )
            err.print(describe_gaps(gaps), markup=False)
        elif not failed and not others:
            out.print(
                "[green]已公布措施的每个条件都有满足与不满足两侧的场景 / every published criterion is held on both sides[/]"
            )
        describe_failures(failed, others, err)
    return 1 if gaps or failed or others else 0


def describe_failures(failed: list[dict[str, Any]], others: list[dict[str, Any]], console: Any) -> None:
    """Name each failing scenario, the step that failed and why, and how to see the whole message."""
    if failed:
        console.print(
            f"[red]{len(failed)} 个场景未通过，未计入覆盖 / {len(failed)} scenarios fail and are not counted:[/]"
        )
        for sc in failed:
            console.print(f"  {sc['scenario']}", markup=False)
            if sc.get("failure"):
                console.print(f"      {sc['failure']}", markup=False)
    if others:
        console.print("[red]场景文件的检查未通过 / checks of the feature files fail:[/]")
        for other in others:
            console.print(f"  {other['nodeid']}", markup=False)
            if other.get("failure"):
                console.print(f"      {other['failure']}", markup=False)
    if failed or others:
        files = sorted({entry["nodeid"].split("::")[0] for entry in (*failed, *others)})
        console.print("完整的原因 / the whole message:")
        console.print(f"  {_rerun_command(files)}", markup=False, soft_wrap=True)  # one line, to copy
