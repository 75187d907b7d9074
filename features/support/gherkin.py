"""The feature files as pytest-bdd reads them: where they are, their tags, their scenarios."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pytest_bdd.exceptions import GherkinParseError
from pytest_bdd.gherkin_parser import GherkinDocument, get_gherkin_document
from pytest_bdd.gherkin_parser import Scenario as GherkinScenario

ISSUERS = ("national", "shandong", "jinan")
LANGUAGE_LINE = "# language: zh-CN"


def feature_files(features_dir: Path) -> list[Path]:
    """Every .feature file under the folder, as pytest collects them (features/conftest.py)."""
    return sorted(features_dir.rglob("*.feature"))


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
    """How many tests pytest-bdd makes of the feature files (a scenario outline: one per example row).

    A file that does not parse counts as one: its collection error stands where its scenarios would,
    so that a run with such a file is never taken for a complete one.
    """
    total = 0
    for path in feature_files(features_dir):
        try:
            doc = document(path)
        except GherkinParseError:
            total += 1
            continue
        # pytest-bdd keeps the last scenario of a name (test_feature_files flags the clash)
        by_name = {s.name: s for s in scenarios_of(doc)}
        total += sum(s.example_rows or 1 for s in by_name.values())
    return total


def parse_error_message(path: Path, error: GherkinParseError, base: Path) -> str:
    """A feature file that does not parse, in the officer's terms: where, and the likely cause."""
    shown = path.relative_to(base).as_posix() if path.is_relative_to(base) else str(path)
    lines = [f"{shown} 第 {error.line} 行无法解析：{error.line_content.strip()}"]
    try:
        first = path.read_text(encoding="utf-8").lstrip("\ufeff").splitlines()[0].strip()
    except (OSError, IndexError):
        first = ""
    if first != LANGUAGE_LINE:
        lines.append(
            f"文件第一行须为 {LANGUAGE_LINE}：没有这一行，功能、场景、假如、那么等中文关键字不被认得。"
        )
    else:
        lines.append(
            "请检查这一行：关键字（功能、背景、场景、场景大纲、例子、假如、当、那么、并且、但是）后面要有冒号或步骤文字；"
            "表格每行以 | 开始并以 | 结束；例子: 只能跟在 场景大纲: 之后。"
        )
    lines.append(f"（Gherkin: {error.message}）")
    return "\n".join(lines)


# ------------------------------------------------------------------ which measure a file is about

DRAFTS = "drafts"  # features/drafts/: trial files, documented in docs/writing-scenarios.md


def feature_tags(doc: GherkinDocument) -> set[str]:
    return {t.name.lstrip("@") for t in doc.feature.tags} if doc.feature else set()


def naming_problems(path: Path, features_dir: Path, measures: dict[str, str]) -> list[str]:
    """What is wrong with where a feature file is and what it says it is about.

    ``measures``: measure id → issuer. ``features/<issuer>/<measure-id>.feature`` is the measure's own
    file; any other file (a trial: ``features/drafts/x.feature``, ``features/jinan/officer-trial.feature``)
    names its measure by a tag on the line before 功能:, so that ``-m <measure-id>`` selects it.
    """
    from .vocab import nearest

    shown = "features/" + path.relative_to(features_dir).as_posix()
    try:
        doc = document(path)
    except GherkinParseError as e:
        return [parse_error_message(path, e, features_dir.parent)]
    tags = feature_tags(doc)
    stem = path.stem
    if stem in measures:
        problems = []
        home = features_dir / measures[stem] / f"{stem}.feature"
        if path != home:
            problems.append(
                f"{shown}：措施 {stem} 的场景文件应为 features/{measures[stem]}/{stem}.feature"
                f"（按发文机关分目录）；若这是试写文件，请另取一个不是措施编号的文件名，或放进 features/{DRAFTS}/"
            )
        if stem not in tags:
            problems.append(f"{shown}：“功能:”的上一行应写 @{stem}")
        return problems
    if tags & measures.keys():
        return []
    close = nearest(stem, list(measures))
    lines = [
        f"{shown} 的文件名不是措施编号，“功能:”之前也没有标明措施：不知道它是哪项措施的场景。",
        "若这是试写文件，请在“功能:”的上一行写上措施编号作标签，如：",
        "    # language: zh-CN",
        f"    @{close[0] if close else 'hte-cultivation-subsidy'}",
        "    功能: …",
        f"（试写文件可以放在 features/{DRAFTS}/，也可以放在措施所属的目录；措施编号见 .venv/bin/huiqi measures）",
    ]
    if close:
        lines.append(
            f"若这就是措施 {close[0]} 的场景文件，请改名为 features/{measures[close[0]]}/{close[0]}.feature"
        )
    return ["\n".join(lines)]
