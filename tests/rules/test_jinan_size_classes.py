"""The size classes of 《统计上大中小微型企业划分办法（2017）》（国统字〔2017〕213号）, as rules/pack.yaml
encodes them, tried at every lower bound of every industry row.

The table below is a second, independent transcription of the standard's 附表: the tests compare what
the engine decides from rules/pack.yaml with it. 大型、中型和小型企业须同时满足所列指标的下限，否则下划
一档；微型企业只须满足所列指标中的一项即可. Bounds are inclusive (the table reads "300≤X＜1000").

The class is read from the ``sme_size_class`` criterion of hte-cultivation-subsidy, whose ``actual`` is
the fact ``enterprise.size_class``. Y = 2024 (as_of 2025-06-30).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.conftest import criterion, outcome

AS_OF = "2025-06-30"
CULTIVATION = "hte-cultivation-subsidy"
CLASSES = ("large", "medium", "small", "micro")

# industry code → indicator → (large, medium, small) lower bounds; employees in 人, money in 万元
E, R, A = "employees", "revenue", "assets"
STANDARD: dict[str, tuple[str, dict[str, tuple[int, int, int]]]] = {
    "A0111": ("农、林、牧、渔业", {R: (20000, 500, 50)}),
    "B0610": ("工业（采矿业）", {E: (1000, 300, 20), R: (40000, 2000, 300)}),
    "C3911": ("工业（制造业）", {E: (1000, 300, 20), R: (40000, 2000, 300)}),
    "D4411": ("工业（电力、热力、燃气及水生产和供应业）", {E: (1000, 300, 20), R: (40000, 2000, 300)}),
    "E4710": ("建筑业", {R: (80000, 6000, 300), A: (80000, 5000, 300)}),
    "F5111": ("批发业", {E: (200, 20, 5), R: (40000, 5000, 1000)}),
    "F5211": ("零售业", {E: (300, 50, 10), R: (20000, 500, 100)}),
    "G5411": ("交通运输业（道路运输业）", {E: (1000, 300, 20), R: (30000, 3000, 200)}),
    "G5611": ("交通运输业（航空运输业）", {E: (1000, 300, 20), R: (30000, 3000, 200)}),
    "G5810": ("交通运输业（多式联运和运输代理业）", {E: (1000, 300, 20), R: (30000, 3000, 200)}),
    "G5910": ("交通运输业（装卸搬运）", {E: (1000, 300, 20), R: (30000, 3000, 200)}),
    "G5920": ("仓储业（通用仓储）", {E: (200, 100, 20), R: (30000, 1000, 100)}),
    "G5990": ("仓储业（其他仓储业）", {E: (200, 100, 20), R: (30000, 1000, 100)}),
    "G6010": ("邮政业", {E: (1000, 300, 20), R: (30000, 2000, 100)}),
    "H6110": ("住宿业", {E: (300, 100, 10), R: (10000, 2000, 100)}),
    "H6210": ("餐饮业", {E: (300, 100, 10), R: (10000, 2000, 100)}),
    "I6311": ("信息传输业（电信）", {E: (2000, 100, 10), R: (100000, 1000, 100)}),
    "I6410": ("信息传输业（互联网和相关服务）", {E: (2000, 100, 10), R: (100000, 1000, 100)}),
    "I6513": ("软件和信息技术服务业", {E: (300, 100, 10), R: (10000, 1000, 50)}),
    "K7010": ("房地产开发经营", {R: (200000, 1000, 100), A: (10000, 5000, 2000)}),
    "K7020": ("物业管理", {E: (1000, 300, 100), R: (5000, 1000, 500)}),
    "L7211": ("租赁和商务服务业", {E: (300, 100, 10), A: (120000, 8000, 100)}),
    "M7320": ("其他未列明行业（科学研究和技术服务业）", {E: (300, 100, 10)}),
    "K7030": ("其他未列明行业（房地产中介服务）", {E: (300, 100, 10)}),
    "G5311": ("其他未列明行业（铁路运输业：交通运输业不包括铁路运输业）", {E: (300, 100, 10)}),
}

FIELD = {E: "employees", R: "sales_revenue", A: "total_assets"}
STEP = {E: 1, R: Decimal("0.01"), A: Decimal("0.01")}
# an indicator the row does not list is set to 0: it must not pull the class down
UNLISTED = {E: 0, R: "0", A: "0"}


def _profile(base: dict, code: str, values: dict[str, object]) -> dict:
    profile = base["profile"]
    profile["industry_code"] = code
    profile["certifications"]["hte"] = {
        "certificate_no": "GR202437000123",
        "issued_on": "2024-12-01",
        "first_time": True,
    }
    fy = next(f for f in profile["fiscal_years"] if f["year"] == 2024)
    for ind in (E, R, A):
        v = values.get(ind, UNLISTED[ind])
        fy[FIELD[ind]] = v if ind == E else str(v)
    fy["tech_staff"] = 0
    fy["high_tech_revenue"] = "0"
    fy["total_revenue"] = fy["sales_revenue"]
    return profile


def size_class(engine, base: dict, code: str, values: dict[str, object]) -> tuple[str, dict]:
    result = engine.explain(_profile(base, code, values), AS_OF)
    return outcome(result, CULTIVATION), criterion(result, CULTIVATION, "sme_size_class")


def _cases():
    for code, (_industry, bounds) in STANDARD.items():
        for level, cls in enumerate(CLASSES[:3]):
            at = {ind: b[level] for ind, b in bounds.items()}
            yield pytest.param(code, at, cls, id=f"{code}-{cls}-at-bounds")
            for ind in bounds:
                below = dict(at)
                below[ind] = at[ind] - STEP[ind]
                yield pytest.param(code, below, CLASSES[level + 1], id=f"{code}-{cls}-{ind}-just-below")


@pytest.mark.parametrize(("code", "values", "expected"), list(_cases()))
def test_size_class_at_each_lower_bound(engine, established, code, values, expected):
    verdict, c = size_class(engine, established, code, values)
    assert c["actual"] == expected
    # 中小企业 (INTERPRETATION: micro included) — every class but large gets the subsidy
    assert verdict == ("ineligible" if expected == "large" else "eligible")


def test_industry_employees_1000_and_revenue_40000_is_large_not_an_sme(engine, established):
    verdict, c = size_class(engine, established, "C3911", {E: 1000, R: 40000})
    assert (verdict, c["status"], c["actual"]) == ("ineligible", "unmet", "large")


def test_industry_999_employees_with_revenue_40000_is_medium(engine, established):
    verdict, c = size_class(engine, established, "C3911", {E: 999, R: 40000})
    assert (verdict, c["status"], c["actual"]) == ("eligible", "met", "medium")


def test_industry_many_employees_but_tiny_revenue_is_micro(engine, established):
    # 微型企业只须满足所列指标中的一项: revenue < 300 is enough
    assert size_class(engine, established, "C3911", {E: 5000, R: "299.99"})[1]["actual"] == "micro"


def test_a_row_ignores_indicators_it_does_not_list(engine, established):
    # 农、林、牧、渔业 uses revenue only: a missing head count does not matter
    profile = _profile(established, "A0111", {R: 20000})
    fy = next(f for f in profile["fiscal_years"] if f["year"] == 2024)
    fy["employees"] = fy["tech_staff"] = None
    result = engine.explain(profile, AS_OF)
    assert criterion(result, CULTIVATION, "sme_size_class")["actual"] == "large"


def test_missing_listed_indicator_is_undetermined_and_named(engine, established):
    profile = _profile(established, "E4710", {R: 100, A: 100})
    next(f for f in profile["fiscal_years"] if f["year"] == 2024)["total_assets"] = None
    result = engine.explain(profile, AS_OF)
    assert outcome(result, CULTIVATION) == "undetermined"
    c = criterion(result, CULTIVATION, "sme_size_class")
    assert c["status"] == "unknown"
    assert c["missing_facts"] == ["fiscal_years[2024].total_assets"]


def test_missing_industry_code_is_undetermined_and_named(engine, established):
    profile = _profile(established, "I6513", {E: 50, R: 500})
    profile["industry_code"] = None
    result = engine.explain(profile, AS_OF)
    assert outcome(result, CULTIVATION) == "undetermined"
    assert criterion(result, CULTIVATION, "sme_size_class")["missing_facts"] == ["industry_code"]


def test_size_class_shows_its_working(engine, established):
    _, c = size_class(engine, established, "I6513", {E: 100, R: 1000})
    assert c["actual"] == "medium"
    assert "软件和信息技术服务业" in c["formula"]


# ---------------------------------------------------------------- the parameter itself


def _table(engine):
    return engine.pack.params_on(dt.date(2025, 6, 30))["sme_size_classes"]


def test_pack_size_table_is_verified_and_cites_the_standard(engine):
    p = engine.pack.pack_params["sme_size_classes"]
    (dated,) = p.values.values()
    assert dated.status.value == "verified"
    assert "国统字〔2017〕213号" in dated.reference


def test_pack_size_table_has_one_catch_all_row_and_no_shared_prefix(engine):
    rows = _table(engine)
    assert [r.industry.zh for r in rows if not r.prefixes] == ["其他未列明行业"]
    prefixes = [p for r in rows for p in r.prefixes]
    assert len(prefixes) == len(set(prefixes))
    # no prefix of one row is a prefix of another row's code: the longest-match rule never decides
    for a in prefixes:
        assert not [b for b in prefixes if b != a and b.startswith(a)], a


def test_pack_size_table_bounds_fall_from_large_to_small_on_the_same_indicators(engine):
    for row in _table(engine):
        for ind in (E, R, A):
            bounds = [getattr(getattr(row, cls), ind) for cls in CLASSES[:3]]
            if bounds[0] is None:
                assert bounds == [None, None, None], row.industry.zh
            else:
                assert bounds[0] > bounds[1] > bounds[2] > 0, row.industry.zh
