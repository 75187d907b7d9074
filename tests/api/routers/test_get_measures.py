"""GET /v1/measures, /v1/measures/{id}, /v1/rulepack."""

from __future__ import annotations

from tests.api.conftest import assert_problem


def test_get_measures_lists_the_catalogue_with_clauses_and_dated_parameters(client, world):
    r = client.get("/v1/measures")
    assert r.status_code == 200
    measures = r.json()
    assert {m["id"] for m in measures} == set(world.app.state.engine.pack.measures)
    hte = next(m for m in measures if m["id"] == "hte-recognition")
    assert hte["title"] == "高新技术企业认定条件"
    assert hte["effective"]["from"]
    leaf = next(c for c in hte["criteria"] if c["kind"] == "criterion")
    assert leaf["clause"] and leaf["quote"]
    assert hte["parameters"]
    for param in hte["parameters"].values():
        for value in param["values"]:
            assert value["since"] and value["reference"] and value["status"] in ("verified", "provisional")
        assert param["provisional"] == any(v["status"] == "provisional" for v in param["values"])


def test_get_measure_in_english_and_unknown(client):
    r = client.get("/v1/measures/hte-recognition?lang=en")
    assert r.json()["title"] == "High-tech enterprise recognition"
    problem = assert_problem(client.get("/v1/measures/no-such-measure"), 404, "unknown-measure")
    assert "no-such-measure" in problem["detail"]
    assert_problem(client.get("/v1/measures/hte-recognition?lang=fr"), 422)


def test_get_rulepack_version_count_and_provisional_parameters(client, world):
    body = client.get("/v1/rulepack").json()
    pack = world.app.state.engine.pack
    assert body["version"] == pack.version
    assert body["measure_count"] == len(pack.measures) == len(body["measures"])
    assert body["provisional_count"] == len(body["provisional"]) == len(pack.provisional())
