"""Review decisions beside the automatic outcome, the append-only audit log, reports, the impact of
a rule change, proactive matching."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from api.screening.work import Evaluators
from tests.api.conftest import assert_problem
from tests.population import AS_OF
from tests.screening.conftest import csv_bytes, profiles, run_done

RULES = Path(__file__).resolve().parents[2] / "rules"


def _first(b, run_id, **params):
    r = b.client.get(
        f"/v1/screenings/{run_id}/results", params={"limit": 1, **params}, headers=b.reviewer.headers
    )
    return r.json()["items"][0]


def test_approving_an_ineligible_outcome_needs_an_override_reason_and_both_are_kept(bureau):
    run = run_done(bureau, csv_bytes(profiles(30, seed=31)))
    item = _first(bureau, run["id"], measure="hte-recognition", outcome="ineligible")
    url = f"/v1/screenings/{run['id']}/rows/{item['row']}/decisions"
    h = bureau.reviewer.headers
    body = {"measure_id": "hte-recognition", "decision": "approve", "reason": "材料齐全"}
    problem = assert_problem(bureau.client.post(url, json=body, headers=h), 422, "validation-error")
    assert problem["errors"][0]["field"] == "override_reason"
    r = bureau.client.post(url, json={**body, "override_reason": "创新能力得分复核后为 72 分"}, headers=h)
    assert r.status_code == 201, r.text
    d = r.json()
    assert (d["decision"], d["automatic_outcome"], d["is_override"]) == ("approve", "ineligible", True)
    # a later decision supersedes; the first is kept
    r = bureau.client.post(
        url,
        json={"measure_id": "hte-recognition", "decision": "request_info", "reason": "补充研发费用明细"},
        headers=h,
    )
    assert r.status_code == 201
    row = bureau.client.get(f"/v1/screenings/{run['id']}/rows/{item['row']}", headers=h).json()
    assert [x["decision"] for x in row["decisions"]] == ["approve", "request_info"]
    assert next(x for x in row["results"] if x["measure_id"] == "hte-recognition")["outcome"] == "ineligible"
    # the reason is required; enterprises may not decide; results must exist
    assert_problem(
        bureau.client.post(
            url, json={"measure_id": "hte-recognition", "decision": "reject", "reason": ""}, headers=h
        ),
        422,
    )
    assert_problem(bureau.client.post(url, json=body, headers=bureau.enterprise.headers), 403)
    assert_problem(bureau.client.post(url, json={**body, "measure_id": "nope"}, headers=h), 404)
    audit = bureau.client.get(
        "/v1/audit", params={"target_id": f"{run['id']}/{item['row']}/"}, headers=bureau.admin.headers
    ).json()
    actions = [e["action"] for e in audit["items"]]
    assert actions.count("review.decision") == 2 and actions.count("review.override") == 1
    override = next(e for e in audit["items"] if e["action"] == "review.override")
    assert override["actor"] == "s-reviewer"
    assert override["before"]["automatic_outcome"] == "ineligible"
    assert override["after"]["override_reason"] == "创新能力得分复核后为 72 分"


def test_every_action_is_in_the_audit_log_for_admins_only(bureau):
    run = run_done(bureau, csv_bytes(profiles(5, seed=32)))
    bureau.client.get(f"/v1/screenings/{run['id']}/export?format=csv", headers=bureau.reviewer.headers)
    r = bureau.client.get(
        "/v1/audit", params={"target_id": run["id"], "limit": 50}, headers=bureau.admin.headers
    )
    actions = {e["action"] for e in r.json()["items"]}
    assert {"screening.import", "screening.run.start", "screening.run.finish", "screening.export"} <= actions
    imp = next(e for e in r.json()["items"] if e["action"] == "screening.import")
    assert (
        imp["actor"] == "s-reviewer" and imp["after"]["bytes"] > 0 and imp["action_label"] == "导入申报数据"
    )
    finish = next(e for e in r.json()["items"] if e["action"] == "screening.run.finish")
    assert finish["after"]["rows"] == 5
    assert_problem(bureau.client.get("/v1/audit", headers=bureau.reviewer.headers), 403)


def test_the_audit_log_cannot_be_changed_through_the_api_or_the_database(bureau):
    run_done(bureau, csv_bytes(profiles(2, seed=33)))
    entry = bureau.client.get("/v1/audit?limit=1", headers=bureau.admin.headers).json()["items"][0]
    for method in ("PUT", "PATCH", "DELETE"):
        for path in ("/v1/audit", f"/v1/audit/{entry['id']}"):
            r = bureau.client.request(method, path, json={"actor": "someone"}, headers=bureau.admin.headers)
            assert r.status_code in (404, 405), (method, path, r.status_code)
    with bureau.app.state.db_engine.connect() as conn:
        for sql in (
            f"UPDATE audit_log SET actor = 'x' WHERE id = {entry['id']}",
            f"DELETE FROM audit_log WHERE id = {entry['id']}",
        ):
            with pytest.raises(DBAPIError, match="append-only"):
                conn.execute(text(sql))
            conn.rollback()
    again = bureau.client.get("/v1/audit?limit=1", headers=bureau.admin.headers).json()["items"][0]
    assert again == entry


def test_report_counts_budget_funnel_and_districts(bureau):
    people = profiles(60, seed=34)
    run = run_done(bureau, csv_bytes(people))
    rep = bureau.client.get(f"/v1/screenings/{run['id']}/report", headers=bureau.reviewer.headers).json()
    by_id = {m["measure_id"]: m for m in rep["measures"]}
    hte = by_id["hte-recognition"]
    assert sum(v["count"] for v in hte["by_outcome"].values()) == hte["subjects"] == 60
    # the funnel removes each applicant once, and its first step is the criterion that excludes most
    assert sum(s["excluded"] for s in hte["funnel"]) == hte["by_outcome"]["ineligible"]["count"]
    assert hte["funnel"][0]["excluded"] == max(c["count"] for c in hte["criteria_failed"])
    assert hte["top_excluding_criterion"]["criterion"] == hte["criteria_failed"][0]["criterion"]
    assert hte["funnel"][0]["label"]
    assert sum(d["total"] for d in hte["by_district"]) == 60
    assert {d["region_code"] for d in hte["by_district"]} <= {p.get("region_code") for p in people}
    # the budget is the exact sum of the eligible results' amounts
    rd = by_id["rd-super-deduction"]
    items = bureau.client.get(
        f"/v1/screenings/{run['id']}/results",
        params={"measure": "rd-super-deduction", "outcome": "eligible", "limit": 500},
        headers=bureau.reviewer.headers,
    ).json()["items"]
    assert Decimal(rd["benefit_forecast"]["eligible"]) == sum(
        Decimal(i["benefit_amount"]) for i in items if i["benefit_amount"]
    )
    assert Decimal(rep["benefit_forecast_total"]) >= Decimal(rd["benefit_forecast"]["eligible"])


def test_impact_of_a_parameter_override_lists_the_changes_and_the_budget_difference(bureau):
    run = run_done(
        bureau, csv_bytes(profiles(60, seed=35)), measures=["hte-recognition", "rd-super-deduction"]
    )
    h = bureau.reviewer.headers
    r = bureau.client.post(
        f"/v1/screenings/{run['id']}/impact",
        json={"overrides": {"hte-recognition.min_tech_staff_ratio": "0.30"}},
        headers=h,
    )
    assert r.status_code == 202, r.text
    impact_id = r.json()["id"]
    bureau.drain()
    got = bureau.client.get(f"/v1/screenings/{impact_id}/impact?limit=500", headers=h).json()
    assert got["status"] == "done" and got["changed"] > 0
    assert all(i["measure_id"] == "hte-recognition" for i in got["items"])
    # a stricter threshold only takes applicants out
    assert all(i["after"] == "ineligible" and i["before"] != "ineligible" for i in got["items"])
    assert got["changed"] == len(got["items"])
    # nothing about the R&D deduction changed, so its budget difference is nought
    budget = {b["measure_id"]: b for b in got["budget"]}
    assert Decimal(budget["rd-super-deduction"]["difference"]) == 0
    bad = bureau.client.post(
        f"/v1/screenings/{run['id']}/impact", json={"overrides": {"hte-recognition.nope": 1}}, headers=h
    )
    assert_problem(bad, 422)


def test_impact_under_another_rule_pack_version(bureau, tmp_path):
    run = run_done(bureau, csv_bytes(profiles(60, seed=35)), measures=["hte-recognition"])
    packs = tmp_path / "packs"
    shutil.copytree(RULES, packs / "stricter")
    f = packs / "stricter" / "national" / "hte-recognition.yaml"
    f.write_text(
        f.read_text(encoding="utf-8").replace('{value: "0.10", reference', '{value: "0.30", reference'),
        encoding="utf-8",
    )
    app = bureau.app
    old = app.state.screening_evaluators
    app.state.screening_evaluators = Evaluators(None, "python", packs, engine=app.state.engine)
    try:
        versions = bureau.client.get("/v1/screenings/rule-packs", headers=bureau.reviewer.headers).json()
        other = next(v["version"] for v in versions if not v["current"])
        r = bureau.client.post(
            f"/v1/screenings/{run['id']}/impact",
            json={"rule_pack_version": other},
            headers=bureau.reviewer.headers,
        )
        assert r.status_code == 202, r.text
        bureau.drain()
        got = bureau.client.get(
            f"/v1/screenings/{r.json()['id']}/impact?limit=500", headers=bureau.reviewer.headers
        ).json()
        assert got["rule_pack_version"] == other and got["changed"] > 0
        results = bureau.client.get(
            f"/v1/screenings/{r.json()['id']}/results?limit=1", headers=bureau.reviewer.headers
        ).json()
        assert results["items"][0]["rule_pack_version"] == other
    finally:
        app.state.screening_evaluators = old


def test_proactive_matching_lists_eligible_enterprises_that_have_not_applied(bureau):
    people = profiles(40, seed=37)
    c, h = bureau.client, bureau.admin.headers
    for p in people:
        assert c.put(f"/v1/enterprises/{p['credit_code']}/profile", json=p, headers=h).status_code == 201
    applied = people[:20]
    run_done(bureau, csv_bytes(applied), measures=["rd-super-deduction"])
    r = c.post(
        "/v1/screenings/proactive",
        json={"measures": ["rd-super-deduction"], "as_of": AS_OF.isoformat()},
        headers=bureau.reviewer.headers,
    )
    assert r.status_code == 202, r.text
    bureau.drain()
    got = c.get(
        f"/v1/screenings/{r.json()['id']}/proactive?limit=500", headers=bureau.reviewer.headers
    ).json()
    codes = {i["credit_code"] for i in got["items"]}
    mine = {p["credit_code"] for p in people}
    assert codes & mine, "some of the stored enterprises qualify"
    assert not codes & {p["credit_code"] for p in applied}, "those who applied are not listed"
    eligible = c.get(
        f"/v1/screenings/{r.json()['id']}/results",
        params={"measure": "rd-super-deduction", "outcome": "eligible", "limit": 500},
        headers=bureau.reviewer.headers,
    ).json()["items"]
    expected = {i["credit_code"] for i in eligible} & (mine - {p["credit_code"] for p in applied})
    assert codes & mine == expected


def test_only_the_criteria_that_decide_a_result_count_as_failed(bureau):
    """A TSME qualified by its score has unmet alternatives (no high-tech certificate, no award …):
    they decide nothing, so the result lists no failed criterion, the filter "criterion failed" does
    not return it, and the report's funnel does not count it."""
    run = run_done(bureau, csv_bytes(profiles(60, seed=34)), measures=["tsme-evaluation"])
    h = bureau.reviewer.headers
    items = bureau.client.get(
        f"/v1/screenings/{run['id']}/results", params={"measure": "tsme-evaluation", "limit": 500}, headers=h
    ).json()["items"]
    eligible = [i for i in items if i["outcome"] == "eligible"]
    assert eligible and all(i["failed_criteria"] == [] for i in eligible)
    without_certificate = {
        i["row"]
        for i in eligible
        for c in i["detail"]["criteria"]
        if c["id"] == "art8_1_valid_hte_certificate" and c["status"] == "unmet"
    }
    assert without_certificate  # eligible rows that lack a certificate they did not need
    failing = bureau.client.get(
        f"/v1/screenings/{run['id']}/results",
        params={"measure": "tsme-evaluation", "criterion": "art8_1_valid_hte_certificate", "limit": 500},
        headers=h,
    ).json()["items"]
    assert not without_certificate & {i["row"] for i in failing}
    assert all(i["outcome"] == "ineligible" for i in failing)
    rep = bureau.client.get(f"/v1/screenings/{run['id']}/report", headers=h).json()
    tsme = next(m for m in rep["measures"] if m["measure_id"] == "tsme-evaluation")
    assert sum(s["excluded"] for s in tsme["funnel"]) == tsme["by_outcome"]["ineligible"]["count"]


def test_concurrent_decisions_each_record_the_decision_they_supersede(bureau):
    # before: under 40 concurrent review decisions, 25 audit entries named the wrong "before"
    import threading

    from sqlalchemy import select

    from api import audit
    from api.deps import Principal
    from api.screening import review, runs
    from api.screening.models import ReviewDecision

    run = run_done(bureau, csv_bytes(profiles(3, seed=38)), measures=["hte-recognition"])
    item = _first(bureau, run["id"], measure="hte-recognition")
    r = bureau.reviewer
    who = Principal(r.user_id, r.username, r.role, None, "api_key")
    factory = bureau.app.state.sessionmaker
    errors: list[BaseException] = []
    start = threading.Barrier(40)

    def decide(i: int) -> None:
        try:
            start.wait()
            with factory() as db:
                review.decide(
                    db,
                    who,
                    runs.get_run(db, run["id"]),
                    item["row"],
                    "hte-recognition",
                    "",
                    "request_info",
                    f"第 {i} 次",
                    None,
                )
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    target = f"{run['id']}/{item['row']}/hte-recognition"
    with factory() as db:
        decisions = list(
            db.scalars(
                select(ReviewDecision).where(ReviewDecision.run_id == run["id"]).order_by(ReviewDecision.id)
            )
        )
        entries = list(
            db.scalars(
                select(audit.AuditEntry)
                .where(audit.AuditEntry.action == "review.decision", audit.AuditEntry.target_id == target)
                .order_by(audit.AuditEntry.id)
            )
        )
        assert audit.verify(db).ok
    assert len(decisions) == len(entries) == 40
    by_decision = {e.after["decision_id"]: e for e in entries}
    previous = None
    for d in decisions:
        assert by_decision[d.id].before["reason"] == (previous.reason if previous else None)
        previous = d
