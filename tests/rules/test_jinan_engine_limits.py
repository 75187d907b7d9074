"""Engine bugs and limits met while coding the Jinan measures, kept as strict xfails (and, once
fixed, as plain regression tests).

Each test states the behaviour the contract (docs/contract.md) or the schema asks for; when
the engine is fixed the test passes, strict xfail turns that into a failure, and the mark comes off.
Tests that need a rule pack of their own write a minimal one under tmp_path.
"""

from __future__ import annotations

import datetime as dt
import shutil
import textwrap
from pathlib import Path

import pytest

from engine import Engine
from engine import facts as F
from engine.loader import DEFAULT_RULES_DIR, lint
from engine.profile import Profile
from engine.schema import SizeBand, SizeRow, Text
from tests.conftest import outcome

AS_OF = "2025-06-30"


def _measure(mid: str, subject: str, leaf: str, extra: str = "") -> str:
    """A minimal valid rule file with one criterion (``leaf``: the YAML of its fact/op/value/unit)."""
    body = textwrap.indent(textwrap.dedent(leaf).strip(), " " * 6)
    return (
        textwrap.dedent(
            f"""\
            id: {mid}
            title: {{zh: 测试措施, en: test measure}}
            issuer: jinan
            status: provisional
            source: {{document: 测试, clause: 五、9, quote: 测试}}
            effective: {{from: 2023-01-01}}
            subject: {subject}
            summary: {{zh: 测试, en: test}}
            criteria:
              id: all_conditions
              label: {{zh: 全部, en: all}}
              all:
                - id: only
                  label: {{zh: 唯一条件, en: the only criterion}}
                  clause: 五、9
                  quote: 测试
            """
        )
        + body
        + "\n"
        + "benefit: {kind: access, description: {zh: 测试, en: test}}\n"
        + textwrap.dedent(extra)
    )


def _pack(tmp_path: Path, files: dict[str, str], pack_yaml: str | None = None) -> Path:
    rules = tmp_path / "rules"
    (rules / "jinan").mkdir(parents=True)
    if pack_yaml is None:
        shutil.copy(DEFAULT_RULES_DIR / "pack.yaml", rules / "pack.yaml")
    else:
        (rules / "pack.yaml").write_text(pack_yaml, encoding="utf-8")
    for mid, text in files.items():
        (rules / "jinan" / f"{mid}.yaml").write_text(text, encoding="utf-8")
    return rules


# ---------------------------------------------------------------- dependencies on other measures


def test_undetermined_dependency_leaves_the_dependant_undetermined(engine, young):
    # tsme-evaluation cannot score the tech-staff share without 2024's tech staff
    young["profile"]["fiscal_years"][1]["tech_staff"] = None
    result = engine.explain(young["profile"], young["as_of"])
    assert outcome(result, "tsme-evaluation") == "undetermined"
    assert outcome(result, "angel-venture-support") == "undetermined"


def test_undetermined_whitelist_leaves_tech_insurance_undetermined(engine, established):
    established["profile"]["certifications"]["tsme"] = {"registration_no": "R2025", "year": 2025}
    established["profile"]["region_code"] = None
    result = engine.explain(established["profile"], AS_OF)
    assert outcome(result, "st-finance-whitelist") == "undetermined"
    assert outcome(result, "tech-insurance") == "undetermined"


def test_one_dependent_measure_can_be_evaluated_alone(engine, established):
    # tech-insurance shares a ruleset with angel-venture-support, whose dependency is not asked for
    result = engine.explain(established["profile"], AS_OF, measures=["tech-insurance"])
    assert outcome(result, "tech-insurance") == "ineligible"


@pytest.mark.parametrize("backend", ["python", "durable"])
def test_project_measure_can_depend_on_an_enterprise_measure(tmp_path, established, backend):
    # was an engine bug: project contexts copied the enterprise's facts before any measure ran
    rules = _pack(
        tmp_path,
        {
            "jinan-enterprise": _measure(
                "jinan-enterprise",
                "enterprise",
                "fact: region.city_code\nop: eq\nvalue: '3701'\nunit: text",
            ),
            "jinan-project": _measure(
                "jinan-project",
                "project",
                "fact: measure.jinan-enterprise.outcome\nop: in\nvalue: [eligible]\nunit: enum",
            ),
        },
    )
    assert lint(rules)[1] == []
    result = Engine(rules, backend=backend).explain(established["profile"], AS_OF)
    assert outcome(result, "jinan-project", "P1") == "eligible"


# ---------------------------------------------------------------- lint


def test_op_in_may_take_its_list_from_a_parameter(tmp_path):
    rules = _pack(
        tmp_path,
        {
            "jinan-list-param": _measure(
                "jinan-list-param",
                "enterprise",
                "fact: enterprise.size_class\nop: in\nparam: size_classes\nunit: enum",
                """\
                parameters:
                  size_classes:
                    description: {zh: 规模, en: sizes}
                    unit: enum
                    clause: 五、9
                    values:
                      2023-01-01: {value: [small, micro], reference: 测试, status: provisional}
                """,
            )
        },
    )
    assert lint(rules)[1] == []


def test_lint_refuses_a_malformed_size_table(tmp_path):
    pack_yaml = (DEFAULT_RULES_DIR / "pack.yaml").read_text(encoding="utf-8")
    broken = pack_yaml.replace('large: {revenue: "20000"}', 'large: {revenu: "20000"}', 1)
    assert broken != pack_yaml
    rules = _pack(
        tmp_path,
        {
            "jinan-any": _measure(
                "jinan-any", "enterprise", "fact: enterprise.size_class\nop: in\nvalue: [small]\nunit: enum"
            )
        },
        broken,
    )
    problems = lint(rules)[1]
    assert any(p.file.endswith("pack.yaml") for p in problems), problems


# ---------------------------------------------------------------- size class


def _row(zh: str, prefixes: list[str], employees: tuple[int, int, int]) -> SizeRow:
    large, medium, small = (SizeBand(employees=e) for e in employees)
    return SizeRow(industry=Text(zh=zh, en=zh), prefixes=prefixes, large=large, medium=medium, small=small)


def test_size_class_row_is_chosen_by_the_longest_matching_prefix(established):
    table = [
        _row("broad", ["G5", "G6010"], (1000, 500, 100)),
        _row("narrow", ["G59"], (300, 100, 10)),
        _row("其他未列明行业", [], (300, 100, 10)),
    ]
    profile = established["profile"]
    profile["industry_code"] = "G5920"
    env = F.Env(Profile.model_validate(profile), dt.date(2025, 6, 30), pack_params={"sme_size_classes": table})
    # 200 employees: "narrow" (G59, the longest match) → medium; "broad" would say small
    assert env.get("enterprise.size_class") == "medium"


def test_section_only_industry_code_leaves_the_size_class_unknown(engine, established):
    profile = established["profile"]
    profile["industry_code"] = "F"
    profile["certifications"]["hte"] = {
        "certificate_no": "GR1",
        "issued_on": "2024-12-01",
        "first_time": True,
    }
    result = engine.explain(profile, AS_OF)
    assert outcome(result, "hte-cultivation-subsidy") == "undetermined"


# ---------------------------------------------------------------- stacking


def test_needs_review_results_show_what_they_cannot_be_stacked_with(engine, established):
    established["profile"]["certifications"]["hte"] = {"certificate_no": "GR1", "issued_on": "2023-03-01"}
    result = engine.explain(established["profile"], AS_OF)
    pilot = next(r for r in result["results"] if r["measure_id"] == "pilot-base")
    assert pilot["outcome"] == "needs_review"
    assert outcome(result, "joint-lab") == "needs_review"
    assert pilot["not_stackable_with"] == ["joint-lab"]


# ---------------------------------------------------------------- explanations


def test_gap_of_an_unmet_less_than_criterion_does_not_say_exceed(engine, established):
    result = engine.explain(established["profile"], AS_OF)
    c = next(
        c
        for r in result["results"]
        if r["measure_id"] == "angel-venture-support"
        for c in r["criteria"]
        if c["id"] == "seed_or_startup_stage"
    )
    assert c["status"] == "unmet"
    assert "须超过" not in c["gap_display"]
