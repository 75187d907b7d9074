"""Every criterion of a published measure is held by the features on both sides (met and unmet).

Runs after the scenarios (features/conftest.py moves it last) and reads what they recorded in this
session. `huiqi rules coverage` shows the same, criterion by criterion, with the scenarios' names.
"""

import json

import pytest
from typer.testing import CliRunner

from engine import coverage
from engine.cli import app
from engine.schema import Leaf, walk
from features.conftest import coverage_records
from features.support.vocab import pack


def test_every_published_criterion_has_a_met_and_an_unmet_scenario(request):
    records, selection = coverage_records(request.config)
    if not selection or selection["selected"] != selection["collected"]:
        pytest.skip("只在运行全部场景时检查覆盖 / coverage is checked when every scenario runs")
    failed = [r["scenario"] for r in records if not r["passed"]]
    rows = coverage.report(pack(), {"scenarios": records})
    gaps = coverage.uncovered(rows)
    note = f"\n（{len(failed)} 个场景未通过，未计入 / failing scenarios are not counted）" if failed else ""
    if gaps:
        pytest.fail(
            "已公布措施的这些条件缺少满足或不满足一侧的场景 / published criteria lacking a side:\n"
            + coverage.describe_gaps(gaps)
            + note
            + "\n（huiqi rules coverage 列出每个条件的场景 / lists the scenarios of each criterion）",
            pytrace=False,
        )


def _record(tmp_path, drop: tuple[str, str, str] | None = None):
    """A record in which every criterion of every measure was met once and unmet once, but `drop`."""
    met, unmet = [], []
    for mid, m in pack().measures.items():
        ids = [n.id for n, _ in walk(m.criteria) if isinstance(n, Leaf)]
        met.append(
            {"measure_id": mid, "subject": None, "outcome": "eligible", "criteria": dict.fromkeys(ids, "met")}
        )
        unmet.append(
            {
                "measure_id": mid,
                "subject": None,
                "outcome": "ineligible",
                "criteria": {i: "unmet" for i in ids if drop is None or (mid, i, "unmet") != drop},
            }
        )
    scenarios = [
        {"scenario": "national/x.feature:1 都满足", "nodeid": "a", "passed": True, "evaluations": met},
        {"scenario": "national/x.feature:2 都不满足", "nodeid": "b", "passed": True, "evaluations": unmet},
    ]
    path = tmp_path / "record.json"
    path.write_text(
        json.dumps(coverage.make_record(scenarios, True, "test"), ensure_ascii=False), encoding="utf-8"
    )
    return path


def test_huiqi_rules_coverage_lists_each_criterion_and_fails_on_a_published_gap(tmp_path):
    runner = CliRunner()
    full = runner.invoke(app, ["rules", "coverage", "--no-run", "--json", "--record", str(_record(tmp_path))])
    assert full.exit_code == 0, full.output
    rows = json.loads(full.stdout)["criteria"]
    assert {r["measure_id"] for r in rows} == set(pack().measures)
    assert all(r["met"] == ["national/x.feature:1 都满足"] for r in rows if not r["manual"])

    gap = ("hte-recognition", "art11_7_innovation_score", "unmet")
    partial = runner.invoke(app, ["rules", "coverage", "--no-run", "--record", str(_record(tmp_path, gap))])
    assert partial.exit_code == 1
    assert "art11_7_innovation_score" in partial.output
