"""The feature files as pytest-bdd reads them: where they are, their tags, their scenarios."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pytest_bdd.gherkin_parser import GherkinDocument, get_gherkin_document
from pytest_bdd.gherkin_parser import Scenario as GherkinScenario

ISSUERS = ("national", "shandong", "jinan")


def feature_files(features_dir: Path) -> list[Path]:
    return sorted(p for p in features_dir.glob("*/*.feature"))


def document(path: Path) -> GherkinDocument:
    return get_gherkin_document(str(path))


@dataclass
class ScenarioInfo:
    name: str
    line: int
    keyword: str
    tags: set[str]
    example_rows: int  # 0 for a plain scenario
    steps: list[str]
    example_cells: list[str]  # every value of its 例子 tables


def scenarios_of(doc: GherkinDocument) -> list[ScenarioInfo]:
    out: list[ScenarioInfo] = []

    def add(s: GherkinScenario, inherited: set[str]) -> None:
        rows = sum(len(e.table_body or []) for e in s.examples)
        out.append(
            ScenarioInfo(
                s.name,
                s.location.line,
                s.keyword,
                {t.name.lstrip("@") for t in s.tags} | inherited,
                rows,
                [st.text for st in s.steps],
                [c.value for e in s.examples for row in (e.table_body or []) for c in row.cells],
            )
        )

    feature_tags = {t.name.lstrip("@") for t in doc.feature.tags}
    for child in doc.feature.children:
        if child.scenario:
            add(child.scenario, feature_tags)
        elif child.rule:
            rule_tags = feature_tags | {t.name.lstrip("@") for t in child.rule.tags}
            for rc in child.rule.children:
                if rc.scenario:
                    add(rc.scenario, rule_tags)
    return out


def count_scenarios(features_dir: Path) -> int:
    """How many tests pytest-bdd makes of the feature files (a scenario outline: one per example row)."""
    total = 0
    for path in feature_files(features_dir):
        # pytest-bdd keeps the last scenario of a name (test_feature_files flags the clash)
        by_name = {s.name: s for s in scenarios_of(document(path))}
        total += sum(s.example_rows or 1 for s in by_name.values())
    return total
