"""POST /v1/evaluations/what-if: the outcomes that flip when facts change."""

from __future__ import annotations

from tests.api.conftest import assert_problem


def test_what_if_reports_the_outcomes_that_flip(client, young_body):
    r = client.post(
        "/v1/evaluations/what-if", json={**young_body, "changes": [{"path": "innovation_score", "value": 80}]}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["changes"] == [{"path": "innovation_score", "before": None, "after": 80}]
    flip = next(f for f in body["flips"] if f["measure_id"] == "hte-recognition")
    assert (flip["before"], flip["after"]) == ("undetermined", "eligible")
    assert (flip["before_label"], flip["after_label"]) == ("无法判定", "符合")
    assert any(c["id"] == "art11_7_innovation_score" and c["after"] == "met" for c in flip["criteria"])
    assert all(o["outcome_changed"] for o in body["flips"])
    assert len(body["outcomes"]) >= len(body["flips"])


def test_what_if_adds_a_delta_in_wan_yuan_exactly(client, established_body):
    r = client.post(
        "/v1/evaluations/what-if",
        json={**established_body, "changes": [{"path": "fiscal_years[2023].rd_expense", "delta": "100.01"}]},
    )
    assert r.status_code == 200, r.text
    assert r.json()["changes"] == [
        {"path": "fiscal_years[2023].rd_expense", "before": "581.69", "after": "681.70"}
    ]


def test_what_if_with_no_flip_lists_every_outcome_unchanged(client, established_body):
    r = client.post(
        "/v1/evaluations/what-if",
        json={**established_body, "changes": [{"path": "name", "value": "另一个名字"}]},
    )
    body = r.json()
    assert body["flips"] == []
    assert body["outcomes"] and all(o["change"] == "unchanged" for o in body["outcomes"])


def test_what_if_can_add_a_missing_fiscal_year_and_change_a_project(client, young_body):
    r = client.post(
        "/v1/evaluations/what-if",
        json={
            **young_body,
            "changes": [
                {"path": "fiscal_years[2022].sales_revenue", "value": 500},
                {"path": "projects[T1].level", "value": "national"},
                {"path": "ip.class_i_count", "delta": 1},
            ],
        },
    )
    assert r.status_code == 200, r.text
    assert [c["after"] for c in r.json()["changes"]] == [500, "national", 3]


def test_what_if_rejects_changes_that_cannot_apply(client, established_body, young_body):
    cases = [
        ({"path": "innovation_score", "delta": 5}, young_body, "changes[0].path"),  # unknown + delta
        ({"path": "fiscal_years[2024].rd_expens", "value": 1}, established_body, "changes[0].path"),
        ({"path": "projects[P9].level", "value": "national"}, established_body, "changes[0].path"),
        ({"path": "fiscal_years[1999].rd_expense", "delta": 1}, established_body, "changes[0].path"),
        ({"path": "ip", "value": 1}, established_body, "changes[0].path"),
        ({"path": "fiscal_years[2024].employees", "delta": "0.5"}, established_body, "changes[0].path"),
    ]
    for change, body, field in cases:
        r = client.post("/v1/evaluations/what-if", json={**body, "changes": [change]})
        problem = assert_problem(r, 422, "invalid-change")
        assert problem["errors"][0]["field"] == field, (change, problem)


def test_what_if_reports_a_changed_profile_that_breaks_the_contract(client, established_body):
    r = client.post(
        "/v1/evaluations/what-if",
        json={**established_body, "changes": [{"path": "fiscal_years[2024].rd_expense", "delta": -700}]},
    )
    problem = assert_problem(r, 422, "invalid-change")
    assert problem["errors"][0]["field"].startswith("profile.fiscal_years[2]")


def test_what_if_needs_exactly_one_of_value_and_delta(client, established_body):
    for change in (
        {"path": "name"},
        {"path": "name", "value": "x", "delta": 1},
        {"path": "bad path!", "value": 1},
    ):
        r = client.post("/v1/evaluations/what-if", json={**established_body, "changes": [change]})
        problem = assert_problem(r, 422)
        assert problem["errors"][0]["field"].startswith("changes[0]")
