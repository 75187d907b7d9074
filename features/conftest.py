"""Generic steps for the policy features, in Chinese and English, shared by every .feature file.

A new scenario needs no Python: the sentences below (listed in docs/writing-scenarios.md, and in
the failure message of any step that matches none) cover dates, profiles, evaluations, outcomes,
criteria, missing facts, benefits and stacking.

Every .feature file under features/ is collected as a test module of its own (support/collect.py),
so that `pytest features/drafts/officer-trial.feature` runs one file. A scenario that disagrees with
the engine fails with a message in the officer's terms: the step, what differs, then the result the
step read, criterion by criterion with its working (support/explain.py); a scenario written wrongly
(a field, a value, an outline column, a tag) says what to write instead.

Options:
  --huiqi-api=URL       run the evaluations against a running service (POST URL/v1/evaluations);
                        also from the environment variable HUIQI_API_URL
  --huiqi-api=asgi      the FastAPI app of api/main.py, in process
  --huiqi-api=serve     start the service (uvicorn, throwaway SQLite) and run over real HTTP
  --huiqi-backend=NAME  engine backend in process: durable (default) or python
  --huiqi-coverage-record=PATH   where to write the criteria each scenario exercised
                        (default var/feature-coverage.json; read by `huiqi rules coverage`)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

import pytest
from pytest_bdd import parsers, step

from engine import coverage as rule_coverage
from features.support import explain
from features.support import profiles as P
from features.support import registry as R
from features.support import vocab as V
from features.support.clients import make_client
from features.support.collect import EXAMPLE_ARG, FeatureFile, example_id, is_scenario
from features.support.gherkin import count_scenarios
from features.support.world import World

FEATURES_DIR = Path(__file__).resolve().parent
ROOT = FEATURES_DIR.parent
COVERAGE_MODULE = "test_rule_coverage.py"

KNOWN_ENGINE_BUG = "known-engine-bug"
KNOWN_ENGINE_BUG_REASON = "引擎尚未做到（预期失败，修复后请删去此标签）/ the engine does not hold this yet (strict xfail: remove the tag once fixed)"

WORLD = pytest.StashKey[World]()
SCENARIO_LABEL = pytest.StashKey[str]()
CURRENT_STEP = pytest.StashKey[str]()
FAILURE = pytest.StashKey[str]()
RECORDS = pytest.StashKey[list]()
OTHER_FAILURES = pytest.StashKey[list]()
SELECTION = pytest.StashKey[dict]()
CLIENT_NAME = pytest.StashKey[str]()

# the tags a feature may carry (the pack's measures and criteria, the issuers, known-engine-bug)
_DECLARED: set[str] = set()
# <名称> in a step: a column of the outline's 例子 table
_PLACEHOLDER = re.compile(r"<([^<>\s]{1,40})>")


# ====================================================================== options, markers, records


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("huiqi", "惠企 policy features")
    group.addoption(
        "--huiqi-api",
        default=os.environ.get("HUIQI_API_URL") or None,
        help="evaluate through the HTTP service at this base URL (POST /v1/evaluations), "
        "or 'asgi' for api.main.app in process; default: the engine in process (env HUIQI_API_URL)",
    )
    group.addoption(
        "--huiqi-backend",
        default=None,
        choices=("durable", "python"),
        help="engine backend when evaluating in process (default: HUIQI_BACKEND or durable)",
    )
    group.addoption(
        "--huiqi-coverage-record",
        default=str(rule_coverage.DEFAULT_RECORD),
        help="where to write the criteria statuses the scenarios exercised (for `huiqi rules coverage`)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Declare every tag a feature may carry, so that --strict-markers catches a misspelt one.

    The tags come from the rule pack: @<measure-id> for each measure and @clause-<criterion-id> for
    each criterion (pytest-bdd turns a tag into the marker of the same name; hyphens are kept, and
    pytest -m accepts them: -m hte-recognition, -m "clause-art11_7_innovation_score").
    """
    for name, description in rule_coverage.declared_tags():
        config.addinivalue_line("markers", f"{name}: {description}")
        _DECLARED.add(name)
    config.addinivalue_line("markers", f"{KNOWN_ENGINE_BUG}: {KNOWN_ENGINE_BUG_REASON}")
    _DECLARED.add(KNOWN_ENGINE_BUG)
    config.stash[RECORDS] = []
    config.stash[OTHER_FAILURES] = []


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    """A .feature file is a test module of its own: `pytest features/jinan/x.feature` runs that file."""
    if file_path.suffix == ".feature":
        return FeatureFile.from_parent(parent, path=file_path)
    return None


def pytest_make_parametrize_id(config: pytest.Config, val, argname: str):
    """Scenario Outline rows named by their values in Chinese (see features/support/collect.py)."""
    if argname == EXAMPLE_ARG and isinstance(val, dict):
        return example_id(val)
    return None


def pytest_bdd_apply_tag(tag: str, function):
    """A tag must name a measure or criterion of the pack; @known-engine-bug is a strict xfail.

    @known-engine-bug: the scenario states the policy, the engine does not hold it yet. It runs as a
    strict xfail, so that it fails the suite (XPASS) the day the engine is fixed and the tag can go.
    """
    if tag not in _DECLARED:
        pytest.fail(_unknown_tag_message(tag), pytrace=False)
    if tag != KNOWN_ENGINE_BUG:
        return None
    pytest.mark.xfail(strict=True, reason=KNOWN_ENGINE_BUG_REASON)(function)
    getattr(pytest.mark, tag)(function)
    return True


def _unknown_tag_message(tag: str) -> str:
    close = V.nearest(tag, sorted(_DECLARED))
    return (
        f"标签 @{tag} 不是规则包中的措施或条件"
        + (f"。是不是：{'、'.join('@' + c for c in close)}？" if close else "。")
        + "\n措施的标签写措施编号（如 @hte-cultivation-subsidy；.venv/bin/huiqi measures 列出全部），"
        "条件的标签写 @clause-<条件编号>（.venv/bin/huiqi rules coverage -m <措施编号> 列出条件编号）。"
        f"\n（unknown tag @{tag}: tags name a measure id or clause-<criterion id>）"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    # a scenario also carries its measure's issuer and status: -m jinan, -m "published and not …"
    marks = rule_coverage.measure_marks()
    for item in items:
        for mid in {m.name for m in item.iter_markers()} & marks.keys():
            for name in marks[mid]:
                item.add_marker(name)
    # the coverage check reads what the scenarios recorded: it runs last
    last = [i for i in items if i.nodeid.split("::")[0].endswith(COVERAGE_MODULE)]
    for i in last:
        items.remove(i)
        items.append(i)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    selected = sum(1 for i in session.items if is_scenario(i))
    session.config.stash[SELECTION] = {"selected": selected, "collected": _collected_scenarios(session)}


def _collected_scenarios(session: pytest.Session) -> int:
    # every scenario and example row of the feature files, whether or not -m/-k deselected it
    return count_scenarios(FEATURES_DIR)


def _shown(filename: str, base: Path) -> str:
    path = Path(filename).resolve()
    return path.relative_to(base).as_posix() if path.is_relative_to(base) else str(path)


def _step_line(step) -> str:
    return f"第 {step.line_number} 行：{R.sentence(step.keyword, step.name)}"


def pytest_bdd_before_scenario(request: pytest.FixtureRequest, feature, scenario) -> None:
    label = f"{_shown(feature.filename, FEATURES_DIR)}:{scenario.line_number} {scenario.name}"
    callspec = getattr(request.node, "callspec", None)
    example = {}
    if callspec is not None and EXAMPLE_ARG in callspec.params:
        example = callspec.params[EXAMPLE_ARG]
        label += " [" + ", ".join(f"{k}={v}" for k, v in example.items()) + "]"
    request.node.stash[SCENARIO_LABEL] = label
    _check_placeholders(request, scenario, list(example))


def _check_placeholders(request: pytest.FixtureRequest, scenario, columns: list[str]) -> None:
    """A <名称> left in a step after the example row filled it in names a column the table lacks."""
    for st in scenario.steps:
        texts = [st.name, st.docstring or ""]
        if st.datatable is not None:
            texts += [cell.value for row in st.datatable.rows for cell in row.cells]
        names = [n for text in texts for n in _PLACEHOLDER.findall(text)]
        if not names:
            continue
        request.node.stash[CURRENT_STEP] = _step_line(st)
        name = names[0]
        if columns:
            close = V.nearest(name, columns)
            raise V.ScenarioError(
                f"例子表中没有「{name}」这一列：这一步的 <{name}> 无从填写。"
                + (f"是不是 <{close[0]}>？" if close else "")
                + f"例子表的列：{'、'.join(columns)}（列名须与 <…> 中的文字完全一致）"
            )
        raise V.ScenarioError(
            f"<{name}> 引用例子表的一列，但这个场景没有例子表：写成 场景大纲: 并在其后加 例子: 表"
            f"（带「{name}」列），或把 <{name}> 换成具体的值"
        )


def pytest_bdd_before_step(request, feature, scenario, step, step_func) -> None:
    request.node.stash[CURRENT_STEP] = _step_line(step)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    outcome = yield
    report = outcome.get_result()
    if (
        report.when == "call"
        and report.failed
        and call.excinfo is not None
        and isinstance(call.excinfo.value, AssertionError)
        and CURRENT_STEP in item.stash
    ):
        # a scenario that disagrees with the engine is not a Python error: say which step and why,
        # then the result the step read, in the officer's terms, and the others one line each
        message = str(call.excinfo.value).split("\nassert ")[0].rstrip()
        world = item.stash.get(WORLD, None)
        context = ""
        if world is not None and not isinstance(call.excinfo.value, V.ScenarioError):
            context = world.failure_context()
            if context and context in message:
                context = ""
        item.stash[FAILURE] = f"{item.stash[CURRENT_STEP]} — {_gist(message)}"
        if item.config.getoption("tbstyle") == "auto":
            report.longrepr = f"{_where(item)}\n  {item.stash[CURRENT_STEP]}\n\n{message}" + (
                f"\n\n{context}" if context else ""
            )
        elif context:
            report.sections.append(("评估结果 / results", context))
    if report.failed and not is_scenario(item):
        # a house rule, a file naming no measure, the coverage gate: `huiqi rules coverage` names it too
        reason = _gist(
            report.longreprtext.split("\nE   ", 1)[-1]
            if "\nE   " in report.longreprtext
            else report.longreprtext
        )
        item.config.stash[OTHER_FAILURES].append({"nodeid": item.nodeid, "failure": reason})
    if report.when == "call" and SCENARIO_LABEL in item.stash:
        world = item.stash.get(WORLD, None)
        failure = None
        if report.failed:
            failure = item.stash.get(FAILURE, None) or (report.longreprtext.strip().splitlines() or [""])[-1]
        item.config.stash[RECORDS].append(
            {
                "scenario": item.stash[SCENARIO_LABEL],
                "nodeid": item.nodeid,
                "passed": report.passed,
                "failed": report.failed,
                "failure": failure,
                "evaluations": world.exercised() if world else [],
            }
        )


def _where(item: pytest.Item) -> str:
    """The scenario as a path from the project root (features/jinan/x.feature:12 名称), to copy or open."""
    label = item.stash.get(SCENARIO_LABEL, item.nodeid)
    return label if label.startswith("/") else f"{FEATURES_DIR.name}/{label}"


def _gist(message: str) -> str:
    """The failure in a line, for `huiqi rules coverage`: the message's first line (with the next one
    when it ends in a colon, as a refusal does), cut after the last sentence that ends within 100 characters."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if not lines:
        return ""
    gist = lines[0]
    if gist.endswith(("：", ":")) and len(lines) > 1:
        gist += " " + lines[1]
    if len(gist) > 100:  # the sentences that fit; the rerun shows the whole
        cut = max(gist.rfind("。", 0, 100), gist.rfind("？", 0, 100))
        if cut > 0:
            gist = gist[: cut + 1]
    return gist


def pytest_sessionfinish(session: pytest.Session) -> None:
    records = session.config.stash.get(RECORDS, [])
    if not records:
        return
    selection = session.config.stash.get(SELECTION, {})
    if not selection or selection["selected"] != selection["collected"]:
        return  # a partial run (-m, -k, one file) leaves the last complete record alone
    record = rule_coverage.make_record(
        records,
        complete=True,
        mode=session.config.stash.get(CLIENT_NAME, "engine"),
        features_dir=FEATURES_DIR,
        other_failures=session.config.stash.get(OTHER_FAILURES, []),
    )
    path = Path(session.config.getoption("--huiqi-coverage-record"))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
    except OSError:
        pass  # a read-only checkout still runs the features


def coverage_records(config: pytest.Config) -> tuple[list, dict]:
    """What the scenarios of this session recorded, and how many ran of how many (for the coverage test)."""
    return config.stash.get(RECORDS, []), config.stash.get(SELECTION, {})


def pytest_bdd_step_func_lookup_error(request, feature, scenario, step, exception) -> None:
    where = f"{_shown(feature.filename, ROOT)} 第 {step.line_number} 行，场景「{scenario.name}」"
    pytest.fail(R.not_found_message(step.name, step.keyword, where), pytrace=False)


# ====================================================================== fixtures


@pytest.fixture(scope="session")
def huiqi_client(request: pytest.FixtureRequest):
    client = make_client(request.config.getoption("--huiqi-api"), request.config.getoption("--huiqi-backend"))
    request.config.stash[CLIENT_NAME] = client.name
    yield client
    client.close()


@pytest.fixture
def huiqi(request: pytest.FixtureRequest, huiqi_client) -> World:
    world = World(huiqi_client)
    request.node.stash[WORLD] = world
    return world


# ====================================================================== steps


def define(keyword: str, zh: list[str], en: list[str], help: str, table: str | None = None):
    """Register one generic step under each of its Chinese and English sentences (any keyword)."""
    sd = R.define(keyword, zh, en, help, table)

    singles = {name for t in (*zh, *en) for name, many in R.placeholders(t) if not many}
    converters = dict.fromkeys(singles, R.unquote)

    def register(fn):
        for pattern in sd.patterns:
            step(parsers.re(pattern), converters=converters, stacklevel=2)(fn)
        return fn

    return register


def _many(text: str) -> list[str]:
    items = R.quoted_items(text)
    if not items:
        raise V.ScenarioError(f"引号中没有内容：{text!r}")
    return items


# ---------------------------------------------------------------------- 假如 (given)


@define(
    "假如",
    ['评估日期为 "{date}"', '评估日为 "{date}"'],
    ['the assessment date is "{date}"'],
    "评估日期（as_of）：有效期、近一年、上一年度都从这一天算起。",
)
def _as_of(huiqi: World, date: str) -> None:
    try:
        day = dt.date.fromisoformat(date.strip())
    except ValueError:
        raise V.ScenarioError(f"评估日期应写成 YYYY-MM-DD，收到 {date!r}") from None
    huiqi.as_of = day.isoformat()
    huiqi.as_of_explicit = True
    huiqi.forget_result()


def _apply_rows(huiqi: World, rows, project: str | None = None) -> None:
    profile = huiqi.need_profile()
    for field, value in rows:
        path = _project_field(project, field, huiqi) if project else P.resolve_field(field, huiqi.last_year())
        P.set_field(profile, path, value, typed=field)
        huiqi.wrote(path, field)
    huiqi.forget_result()


def _project_field(project: str, field: str, huiqi: World) -> str:
    name = P.project_labels().get(V.norm(field))
    if name == "id":
        raise V.ScenarioError('项目编号写在步骤里：企业有项目 "P1"，情况如下:')
    if name:
        return f"projects[{project}].{name}"
    try:
        return P.resolve_field(field, huiqi.last_year())
    except V.ScenarioError:
        raise V.ScenarioError(P.unknown_field_message(field, project=project)) from None


@define(
    "假如",
    [
        '一家企业的情况同示例 "{name}"',
        '一家企业的情况同示例 "{name}"，但以下信息不同:',
        '企业的情况同示例 "{name}"',
    ],
    ['an enterprise like the example "{name}"', 'an enterprise like the example "{name}", except:'],
    "从示例文件（features/examples/ 或 tests/examples/）取企业画像；文件中的评估日期在没有另写评估日期时采用。"
    "可带表格改写其中的信息。",
    table="可选：| 字段 | 值 |，改写示例中的信息",
)
def _from_example(huiqi: World, name: str, datatable=None) -> None:
    profile, as_of = P.load_example(name)
    huiqi.start(profile, example=name)
    if as_of and not huiqi.as_of_explicit:
        huiqi.as_of = as_of
    if datatable:
        _apply_rows(huiqi, P.table_rows(datatable))
    huiqi.forget_result()


@define(
    "假如",
    ["一家企业的情况如下:", "一家企业的信息如下:", "企业的情况如下:"],
    ["an enterprise with these facts:", "an enterprise with:"],
    "从空白画像开始，只有表格中的信息（统一社会信用代码自动补一个有效值），其余一律视为未知。",
    table="| 字段 | 值 |：字段写契约路径或中文名称",
)
def _new_profile(huiqi: World, datatable=None) -> None:
    huiqi.start(P.new_profile())
    _apply_rows(huiqi, P.table_rows(datatable))


@define(
    "假如",
    ["企业的情况修改如下:", "以下信息改为:", "其情况修改如下:", "企业的以下信息改为:"],
    ["its facts change to:", "these facts change:"],
    "改写当前画像中的若干信息（没有的就加上；值写 未知 即删去）。",
    table="| 字段 | 值 |",
)
def _modify(huiqi: World, datatable=None) -> None:
    _apply_rows(huiqi, P.table_rows(datatable))


@define(
    "假如",
    ['"{field}" 为 "{value}"', '"{field}" 改为 "{value}"', '企业的 "{field}" 为 "{value}"'],
    ['"{field}" is "{value}"', 'its "{field}" is "{value}"'],
    "改写一项信息。",
)
def _set_one(huiqi: World, field: str, value: str) -> None:
    _apply_rows(huiqi, [(field, value)])


@define(
    "假如",
    ['未提供 "{fields...}"', '企业未提供 "{fields...}"', '"{fields...}" 未知'],
    ['"{fields...}" is unknown', '"{fields...}" are unknown', 'the enterprise does not give "{fields...}"'],
    "删去若干信息，使之未知（缺少的信息）；写一个年度（如 2023年度财务数据）或一个项目则整个删去。",
)
def _unknown(huiqi: World, fields: str) -> None:
    profile = huiqi.need_profile()
    for f in _many(fields):
        path = P.resolve_field(f, huiqi.last_year())
        P.remove_field(profile, path)
        huiqi.wrote(path, f)
    huiqi.forget_result()


@define(
    "假如",
    [
        '企业有项目 "{project}"，情况如下:',
        '企业有一个项目 "{project}"，情况如下:',
        '项目 "{project}" 的情况如下:',
    ],
    ['a project "{project}" with:', 'the enterprise has a project "{project}" with:'],
    "添加（或改写）一个项目；表格中的字段可直接写项目的字段名（类别、级别、涉及新增用地…）。",
    table="| 字段 | 值 |，如 | 项目类别 | 人才类 |",
)
def _project(huiqi: World, project: str, datatable=None) -> None:
    profile = huiqi.need_profile()
    projects = profile.setdefault("projects", [])
    if not any(p.get("id") == project for p in projects):
        projects.append({"id": project})
    if datatable:
        _apply_rows(huiqi, P.table_rows(datatable), project=project)
    huiqi.forget_result()


@define(
    "假如",
    ["企业没有项目", "企业没有任何项目"],
    ["the enterprise has no projects"],
    "删去全部项目（按项目评估的措施因此不适用）。",
)
def _no_projects(huiqi: World) -> None:
    huiqi.need_profile()["projects"] = []
    huiqi.forget_result()


# ---------------------------------------------------------------------- 当 (when)


@define(
    "当",
    ['按 "{measures...}" 评估', '按照 "{measures...}" 评估', '对 "{measures...}" 进行评估'],
    ['evaluated against "{measures...}"', 'it is evaluated against "{measures...}"'],
    "评估一项或几项措施（写名称或 id，几项之间用 、 或 和 隔开）；后面的 那么 步骤默认说第一项。",
)
def _evaluate(huiqi: World, measures: str) -> None:
    huiqi.evaluate([V.measure_id(m) for m in _many(measures)])


@define(
    "当",
    ["按全部措施评估", "评估全部措施"],
    ["evaluated against every measure", "evaluated against all measures"],
    "评估规则包中的全部措施；那么 步骤须写明是哪项措施的结果。",
)
def _evaluate_all(huiqi: World) -> None:
    huiqi.evaluate(None)


# ---------------------------------------------------------------------- 那么 (then): outcomes


def _check_outcome(huiqi: World, outcome: str) -> None:
    want = V.outcome_key(outcome)
    r = huiqi.result()
    assert r["outcome"] == want, f"结论应为「{V.outcome_word(want)}」，实为「{V.outcome_word(r['outcome'])}」"


@define(
    "那么",
    ['结果为 "{outcome}"', '结论为 "{outcome}"'],
    ['the outcome is "{outcome}"'],
    "结论：符合 / 不符合 / 需人工审核 / 无法判定 / 不适用。",
)
def _outcome(huiqi: World, outcome: str) -> None:
    _check_outcome(huiqi, outcome)


@define(
    "那么",
    ['"{measure}" 的结果为 "{outcome}"', '"{measure}" 的结论为 "{outcome}"'],
    ['the outcome of "{measure}" is "{outcome}"'],
    "评估了几项措施时，指明哪一项；之后的 并且 步骤都说这一项。",
)
def _measure_outcome(huiqi: World, measure: str, outcome: str) -> None:
    huiqi.focus_measure = V.measure_id(measure)
    huiqi.focus_project = None
    _check_outcome(huiqi, outcome)


@define(
    "那么",
    ['项目 "{project}" 的结果为 "{outcome}"', '项目 "{project}" 的结论为 "{outcome}"'],
    ['the outcome for project "{project}" is "{outcome}"'],
    "按项目评估的措施：某个项目的结论；之后的 并且 步骤都说这个项目。",
)
def _project_outcome(huiqi: World, project: str, outcome: str) -> None:
    huiqi.focus_project = project
    _check_outcome(huiqi, outcome)


@define(
    "那么",
    ['"{measure}" 对项目 "{project}" 的结果为 "{outcome}"'],
    ['the outcome of "{measure}" for project "{project}" is "{outcome}"'],
    "指明措施和项目。",
)
def _measure_project_outcome(huiqi: World, measure: str, project: str, outcome: str) -> None:
    huiqi.focus_measure = V.measure_id(measure)
    huiqi.focus_project = project
    _check_outcome(huiqi, outcome)


@define(
    "那么",
    ['评估被拒绝，原因包括 "{text}"', '画像被拒绝，原因包括 "{text}"'],
    ['the evaluation is refused, saying "{text}"'],
    "画像不符合契约（如项目编号重复），评估被拒绝，说明中包含这段文字。",
)
def _refused(huiqi: World, text: str) -> None:
    assert huiqi.rejected is not None, "评估没有被拒绝：画像通过了校验"
    assert V.norm(text) in V.norm(str(huiqi.rejected)), f"拒绝的理由中没有「{text}」"


# ---------------------------------------------------------------------- 那么: criteria


def _criteria_with(r: dict, status: str) -> list[dict]:
    """Criteria (leaves) with this status that decide: an unmet alternative of a met any-of group does not."""
    by_id = {c["id"]: c for c in r["criteria"] if "id" in c}

    def decided_elsewhere(c: dict) -> bool:
        parent = by_id.get(c.get("parent"))
        while parent is not None:
            if parent["status"] != c["status"]:
                return True
            parent = by_id.get(parent.get("parent"))
        return False

    return [
        c
        for c in r["criteria"]
        if c.get("kind") == "criterion" and c["status"] == status and not decided_elsewhere(c)
    ]


def _unmet_groups(r: dict) -> set[str]:
    return {c["id"] for c in r["criteria"] if c.get("kind") != "criterion" and c["status"] == "unmet"}


def _leaves_under(r: dict, group_id: str) -> set[str]:
    parent = {c["id"]: c.get("parent") for c in r["criteria"] if "id" in c}
    out = set()
    for c in r["criteria"]:
        if c.get("kind") != "criterion":
            continue
        p = c.get("parent")
        while p is not None and p != group_id:
            p = parent.get(p)
        if p == group_id:
            out.add(c["id"])
    return out


def _criterion(huiqi: World, name: str) -> dict:
    r = huiqi.result()
    cid = V.criterion_id(r["measure_id"], name)
    for c in r["criteria"]:
        if c.get("id") == cid:
            return c
    raise AssertionError(f"结果中没有条件「{name}」（{cid}）")


def _labels(r: dict, ids) -> str:
    """Criteria named as the rule pack labels them: 科技人员占比（art11_4_tech_staff_ratio）."""
    by_id = {c["id"]: c["label"] for c in r["criteria"] if "id" in c}
    return "、".join(f"{by_id.get(i, i)}（{i}）" for i in ids)


def _shown_value(display, value) -> str:
    """A value as the result shows it (小型, 25%, 不低于（含） 10%), or 未知."""
    if display:
        return str(display)
    return "未知" if value is None else str(value)


def _ids(huiqi: World, names: str) -> list[str]:
    mid = huiqi.result()["measure_id"]
    return [V.criterion_id(mid, n) for n in _many(names)]


@define(
    "那么",
    ['未满足的条件包括 "{criteria...}"', '不满足的条件包括 "{criteria...}"'],
    ['the unmet criteria include "{criteria...}"'],
    "这些条件（写名称或 id）不满足。",
)
def _unmet_include(huiqi: World, criteria: str) -> None:
    r = huiqi.result()
    unmet = {c["id"] for c in _criteria_with(r, "unmet")} | _unmet_groups(r)
    lacking = [i for i in _ids(huiqi, criteria) if i not in unmet]
    assert not lacking, f"这些条件并非不满足：{_labels(r, lacking)}"


@define(
    "那么",
    ['未满足的条件不包括 "{criteria...}"'],
    ['the unmet criteria do not include "{criteria...}"'],
    "这些条件不在未满足之列。",
)
def _unmet_exclude(huiqi: World, criteria: str) -> None:
    r = huiqi.result()
    unmet = {c["id"] for c in _criteria_with(r, "unmet")}
    wrong = [i for i in _ids(huiqi, criteria) if i in unmet]
    assert not wrong, f"这些条件不满足：{_labels(r, wrong)}"


@define(
    "那么",
    ['未满足的条件只有 "{criteria...}"', '未满足的条件仅有 "{criteria...}"'],
    ['the only unmet criteria are "{criteria...}"', 'the only unmet criterion is "{criteria...}"'],
    "不满足的恰好是这些条件。",
)
def _unmet_only(huiqi: World, criteria: str) -> None:
    r = huiqi.result()
    unmet = {c["id"] for c in _criteria_with(r, "unmet")}
    # a group named (e.g. 属于科技型企业, "any one of") stands for its unmet criteria
    want = set()
    for i in _ids(huiqi, criteria):
        want |= _leaves_under(r, i) & unmet if i in _unmet_groups(r) else {i}
    assert unmet == want, (
        f"未满足的条件应为：{_labels(r, sorted(want)) or '（无）'}\n实为：{_labels(r, sorted(unmet)) or '（无）'}"
    )


@define(
    "那么",
    ['满足的条件包括 "{criteria...}"', '已满足的条件包括 "{criteria...}"'],
    ['the met criteria include "{criteria...}"'],
    "这些条件满足。",
)
def _met_include(huiqi: World, criteria: str) -> None:
    r = huiqi.result()
    met = {c["id"] for c in r["criteria"] if c["status"] == "met"}
    lacking = [i for i in _ids(huiqi, criteria) if i not in met]
    assert not lacking, f"这些条件并未满足：{_labels(r, lacking)}"


@define(
    "那么",
    ['条件 "{criterion}" 的状态为 "{status}"', '条件 "{criterion}" 为 "{status}"'],
    ['criterion "{criterion}" is "{status}"'],
    "单个条件的状态：满足 / 不满足 / 无法判定 / 需人工判断。",
)
def _criterion_status(huiqi: World, criterion: str, status: str) -> None:
    c = _criterion(huiqi, criterion)
    want = V.status_key(status)
    assert c["status"] == want, (
        f"条件「{c['label']}」应为「{V.status_word(want)}」，实为「{V.status_word(c['status'])}」"
    )


@define(
    "那么",
    ['条件 "{criterion}" 的实际值为 "{value}"'],
    ['criterion "{criterion}" has the actual value "{value}"'],
    "条件所用的实际值（如 7%、3029天、是）。",
)
def _criterion_actual(huiqi: World, criterion: str, value: str) -> None:
    c = _criterion(huiqi, criterion)
    assert V.same_value(value, c.get("actual"), c.get("actual_display")), (
        f"条件「{c['label']}」的实际值为「{_shown_value(c.get('actual_display'), c.get('actual'))}」，"
        f"场景写的是「{value}」"
    )


@define(
    "那么",
    ['条件 "{criterion}" 的要求为 "{value}"', '条件 "{criterion}" 的要求值为 "{value}"'],
    ['criterion "{criterion}" requires "{value}"'],
    "条件的要求（门槛）值，如 4%（按销售收入分档时即所在档的门槛）。",
)
def _criterion_expected(huiqi: World, criterion: str, value: str) -> None:
    c = _criterion(huiqi, criterion)
    display = c.get("expected_display") or ""
    bare = display.split(" ", 1)[1] if " " in display else display
    assert V.same_value(value, c.get("expected"), display, bare), (
        f"条件「{c['label']}」的要求为「{_shown_value(display, c.get('expected'))}」，场景写的是「{value}」"
    )


@define(
    "那么",
    ['条件 "{criterion}" 的差距为 "{value}"'],
    ['criterion "{criterion}" falls short by "{value}"'],
    "未满足的数值条件差多少（条件的单位；比例以百分点计，如 0.5 个百分点）。",
)
def _criterion_gap(huiqi: World, criterion: str, value: str) -> None:
    c = _criterion(huiqi, criterion)
    gap = c.get("gap")
    shown = c.get("gap_display") or ""
    candidates = [gap, shown, shown.removeprefix("差 ").split("（")[0]]
    if c.get("unit") == "ratio" and gap is not None:
        points = V.as_number(gap) * 100
        candidates.append(points)
    assert V.same_value(value, *candidates), (
        f"条件「{c['label']}」的差距为「{shown or '（无差距）'}」，场景写的是「{value}」"
    )


# ---------------------------------------------------------------------- 那么: missing facts


def _missing_matches(huiqi: World, wanted: str, mf: dict) -> bool:
    if V.norm(wanted) in (V.norm(mf["path"]), V.norm(mf["label"])):
        return True
    try:
        return P.resolve_field(wanted, huiqi.last_year()) == mf["path"]
    except V.ScenarioError:
        return False


def _missing_names(huiqi: World, r: dict) -> str:
    return "、".join(explain.field_name(m["path"], huiqi.typed) for m in r["missing_facts"])


@define(
    "那么",
    ['缺少的信息包括 "{facts...}"', '缺少信息 "{facts...}"'],
    ['the missing facts include "{facts...}"'],
    "结论无法判定，因为缺少这些信息（写字段路径或中文名称）。",
)
def _missing_include(huiqi: World, facts: str) -> None:
    r = huiqi.result()
    absent = [f for f in _many(facts) if not any(_missing_matches(huiqi, f, mf) for mf in r["missing_facts"])]
    assert not absent, (
        f"缺少的信息中没有：{'、'.join(absent)}（缺少的信息：{_missing_names(huiqi, r) or '无'}）"
    )


@define(
    "那么",
    ['缺少的信息只有 "{facts...}"', '缺少的信息仅有 "{facts...}"'],
    ['the only missing facts are "{facts...}"', 'the only missing fact is "{facts...}"'],
    "缺少的信息恰好是这些。",
)
def _missing_only(huiqi: World, facts: str) -> None:
    r = huiqi.result()
    wanted = _many(facts)
    _missing_include(huiqi, facts)
    extra = [mf for mf in r["missing_facts"] if not any(_missing_matches(huiqi, w, mf) for w in wanted)]
    assert not extra, "还缺少：" + "、".join(explain.field_name(m["path"], huiqi.typed) for m in extra)


@define("那么", ["没有缺少的信息", "不缺少信息"], ["no fact is missing"], "结果不因缺少信息而无法判定。")
def _nothing_missing(huiqi: World) -> None:
    r = huiqi.result()
    assert not r["missing_facts"], f"缺少：{_missing_names(huiqi, r)}"


# ---------------------------------------------------------------------- 那么: benefit, stacking, scores


def _benefit(huiqi: World) -> dict:
    r = huiqi.result()
    b = r.get("benefit")
    assert b, f"没有优惠（结论为「{V.outcome_word(r['outcome'])}」）"
    return b


@define(
    "那么",
    ['优惠档次为 "{tier}"', '优惠的档次为 "{tier}"'],
    ['the benefit tier is "{tier}"'],
    "分档的优惠：档次的 id 或中文名称（如 provincial_quota / 争取省级指标保障）。",
)
def _benefit_tier(huiqi: World, tier: str) -> None:
    b = _benefit(huiqi)
    assert V.same_value(tier, b.get("tier"), b.get("tier_label")), (
        f"优惠档次为「{b.get('tier_label') or b.get('tier') or '无'}」（{b.get('tier')}），场景写的是「{tier}」"
    )


@define(
    "那么",
    ['优惠金额为 "{amount}"', '补助金额为 "{amount}"', '扣除金额为 "{amount}"'],
    ['the benefit amount is "{amount}"'],
    "优惠的金额（万元；可写 10 或 10万元）。",
)
def _benefit_amount(huiqi: World, amount: str) -> None:
    b = _benefit(huiqi)
    assert V.same_value(amount, b.get("amount"), b.get("amount_display")), (
        f"优惠金额为「{b.get('amount_display') or b.get('amount') or '无'}」，场景写的是「{amount}」"
    )


@define(
    "那么",
    ['优惠比例为 "{rate}"', '优惠税率为 "{rate}"', '补贴比例为 "{rate}"'],
    ['the benefit rate is "{rate}"'],
    "比例类优惠（税率、加计扣除比例、贴息比例），如 15%。",
)
def _benefit_rate(huiqi: World, rate: str) -> None:
    b = _benefit(huiqi)
    assert V.same_value(rate, b.get("rate")), (
        f"优惠比例为「{explain.percent(b.get('rate')) or '无'}」，场景写的是「{rate}」"
    )


@define(
    "那么",
    ['优惠为 "{value}"', '优惠包括 "{value}"'],
    ['the benefit is "{value}"'],
    "优惠的档次、金额、比例之一，或优惠说明中的一段文字。",
)
def _benefit_any(huiqi: World, value: str) -> None:
    b = _benefit(huiqi)
    if V.same_value(
        value, b.get("tier"), b.get("tier_label"), b.get("amount"), b.get("amount_display"), b.get("rate")
    ):
        return
    assert V.norm(value) in V.norm(b.get("description") or ""), f"优惠中没有「{value}」"


@define(
    "那么",
    ['优惠的 "{key}" 为 "{value}"'],
    ['the benefit\'s "{key}" is "{value}"'],
    "优惠结果中的某一项（kind、unit、base、cap …，见契约）。",
)
def _benefit_key(huiqi: World, key: str, value: str) -> None:
    b = _benefit(huiqi)
    assert key in b, f"优惠中没有「{key}」一项；有：{'、'.join(b)}"
    assert V.same_value(value, b[key]), f"优惠的「{key}」为「{b[key]}」，场景写的是「{value}」"


@define("那么", ["没有优惠", "不享受优惠"], ["there is no benefit"], "结论不是符合，不给出优惠。")
def _no_benefit(huiqi: World) -> None:
    r = huiqi.result()
    assert not r.get("benefit"), f"有优惠：{explain.benefit_words(r['benefit'])}"


@define(
    "那么",
    ["优惠为暂定参数", "优惠金额为暂定参数"],
    ["the benefit is provisional"],
    "优惠金额来自暂定参数（待科技局确认）。",
)
def _benefit_provisional(huiqi: World) -> None:
    b = _benefit(huiqi)
    assert b.get("provisional") is True, "优惠并非暂定参数"


def _titles(ids) -> str:
    return "、".join(f"{V.measure(i).title.zh}（{i}）" for i in ids or ())


@define(
    "那么",
    ['不可与 "{measures...}" 叠加', '不可叠加的措施包括 "{measures...}"'],
    ['it is not stackable with "{measures...}"'],
    "同时符合、但不能叠加享受的措施（规则包中的 excludes）。",
)
def _not_stackable(huiqi: World, measures: str) -> None:
    r = huiqi.result()
    lacking = [
        m for m in (V.measure_id(x) for x in _many(measures)) if m not in r.get("not_stackable_with", [])
    ]
    assert not lacking, (
        f"不可叠加的措施中没有：{_titles(lacking)}（不可叠加的措施：{_titles(r.get('not_stackable_with')) or '无'}）"
    )


@define(
    "那么",
    ["没有不可叠加的措施", "可与其他措施叠加"],
    ["it is stackable with every other measure"],
    "没有同时符合而不能叠加的措施。",
)
def _stackable(huiqi: World) -> None:
    r = huiqi.result()
    assert not r.get("not_stackable_with"), f"不可叠加的措施：{_titles(r['not_stackable_with'])}"


@define(
    "那么",
    ['评分 "{score}" 为 "{points}"', '得分 "{score}" 为 "{points}"'],
    ['score "{score}" is "{points}"'],
    "评分类措施：总分或某一项指标的得分（写名称或 id）。",
)
def _score(huiqi: World, score: str, points: str) -> None:
    r = huiqi.result()
    scores = r.get("scores") or {}
    seen = []
    for sid, s in scores.items():
        if V.norm(score) in (V.norm(sid), V.norm(s["label"]), V.norm("总分")):
            assert V.same_value(points, s["total"]), (
                f"{s['label']} 为 {s['total']} 分，不是 {points}（{s.get('formula')}）"
            )
            return
        for pid, part in s["parts"].items():
            seen.append(part["label"])
            if V.norm(score) in (V.norm(pid), V.norm(part["label"])):
                assert V.same_value(points, part["points"]), (
                    f"{part['label']} 为 {part['points']} 分，不是 {points}（{s.get('formula')}）"
                )
                return
        seen.append(s["label"])
    raise V.ScenarioError(f"结果中没有评分 {score!r}；有：{'、'.join(seen) or '（无评分）'}")


@define(
    "那么",
    ['改进建议包括 "{text}"', '建议包括 "{text}"'],
    ['the remedy mentions "{text}"'],
    "未满足（或无法判定）的条件给出的改进建议中包含这段文字。",
)
def _remedy(huiqi: World, text: str) -> None:
    r = huiqi.result()
    remedies = [c["remedy"] for c in r["criteria"] if c.get("remedy")]
    assert any(V.norm(text) in V.norm(t) for t in remedies), f"改进建议中没有「{text}」；改进建议：" + (
        "；".join(remedies) or "无"
    )


@define(
    "那么",
    ['说明包含 "{text}"', '说明中包含 "{text}"'],
    ['the explanation contains "{text}"'],
    "结论的说明（或某个条件的说明）中包含这段文字。",
)
def _explanation(huiqi: World, text: str) -> None:
    r = huiqi.result()
    texts = [r.get("explanation") or ""] + [c.get("explanation") or "" for c in r["criteria"]]
    assert any(V.norm(text) in V.norm(t) for t in texts), f"说明中没有「{text}」"
