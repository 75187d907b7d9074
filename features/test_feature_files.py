"""The feature files keep the house rules: one per measure, in Chinese, tagged, and covering the checklist.

Checklist of issue 4 for every measure: a scenario that cannot be decided for want of a fact (无法判定,
naming the fact), one outside the measure's window (不适用), one about the benefit, project subjects
for a project-level measure, the measures it depends on or excludes; and for a published measure
threshold sweeps (场景大纲 with 例子).

Other feature files are trials (features/drafts/, or beside the measure's file): each names its
measure by a tag; the checklist is the measure's own file's to meet. A problem is reported as a
message that says what to write, not as a traceback.
"""

from __future__ import annotations

import re

import pytest

from engine.schema import Leaf, walk
from features.support.gherkin import document, feature_files, naming_problems, scenarios_of
from features.support.vocab import pack

from .conftest import FEATURES_DIR

RULES_DIR = FEATURES_DIR.parent / "rules"


def _plain(text: str) -> str:
    return re.sub(r"[\"“”「」]", "", text)


def _measures():
    return sorted(pack().measures.values(), key=lambda m: (m.issuer, m.id))


def _feature(m):
    return FEATURES_DIR / m.issuer / f"{m.id}.feature"


def test_every_measure_has_a_feature_file():
    missing = [
        f"features/{m.issuer}/{m.id}.feature（{m.title.zh}）" for m in _measures() if not _feature(m).exists()
    ]
    if missing:
        pytest.fail(
            "这些措施还没有验收场景 / measures without a feature:\n  " + "\n  ".join(missing), pytrace=False
        )


def test_every_feature_file_names_its_measure():
    measures = {m.id: m.issuer for m in _measures()}
    problems = [
        p for path in feature_files(FEATURES_DIR) for p in naming_problems(path, FEATURES_DIR, measures)
    ]
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.mark.parametrize("measure", _measures(), ids=lambda m: m.id)
def test_feature_follows_the_house_rules(measure):
    path = _feature(measure)
    if not path.exists():
        pytest.skip("no feature yet (see test_every_measure_has_a_feature_file)")
    text = path.read_text(encoding="utf-8")
    problems = []
    if text.splitlines()[0].strip() != "# language: zh-CN":
        problems.append("第一行应为 # language: zh-CN")
    doc = document(path)
    if measure.id not in {t.name.lstrip("@") for t in doc.feature.tags}:
        problems.append(f"功能应带标签 @{measure.id}")
    scenarios = scenarios_of(doc)
    names = [s.name for s in scenarios]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        problems.append(f"场景名称重复（pytest-bdd 只会保留最后一个）：{dupes}")
    criteria = {n.id for n, _ in walk(measure.criteria)}
    for s in scenarios:
        for tag in s.tags:
            if tag.startswith("clause-") and tag.removeprefix("clause-") not in criteria:
                problems.append(f"第 {s.line} 行「{s.name}」：@{tag} 不是本措施的条件")
    # scenarios marked @known-engine-bug count: they state the policy the engine must come to hold
    steps = [step for s in scenarios for step in (*s.steps, *s.example_cells)]

    def has(pattern: str) -> bool:
        return any(re.search(pattern, step) for step in steps)

    if not (has(r"无法判定") and has(r"缺少的信息")):
        problems.append("缺少“无法判定、并指出缺少的信息”的场景")
    if not has(r"不适用"):
        problems.append("缺少评估日期在有效期外（不适用）的场景")
    if not has(r"优惠"):
        problems.append("缺少关于优惠（金额、档次、比例或内容）的场景")
    if measure.subject == "project" and not has(r"项目\s*[\"“]"):
        problems.append("按项目评估的措施缺少针对具体项目的场景")
    related = set(measure.excludes) | {
        n.fact.split(".")[1]
        for n, _ in walk(measure.criteria)
        if isinstance(n, Leaf) and n.fact and n.fact.startswith("measure.")
    }
    flat = [_plain(step) for step in steps]
    for other in sorted(related):
        title = pack().measures[other].title.zh
        if not any(other in step or _plain(title) in step for step in flat):
            problems.append(f"缺少与相关措施 {other}（{title}）一起评估的场景")
    if measure.status == "published":
        outlines = [s for s in scenarios if s.example_rows >= 2]
        if not outlines:
            problems.append("已公布措施应有带例子的场景大纲（门槛两侧及边界）")
    if problems:
        pytest.fail(f"{path.relative_to(FEATURES_DIR.parent)}:\n  " + "\n  ".join(problems), pytrace=False)
