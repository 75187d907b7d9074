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


def test_get_measure_gives_every_text_a_client_needs_to_word_a_verdict(client):
    r = client.get("/v1/measures/hte-recognition?lang=en")
    body = r.json()
    nodes = {c["id"]: c for c in body["criteria"]}
    ratio = nodes["art11_4_tech_staff_ratio"]
    assert ratio["label"] == "Technical staff share" and ratio["op_label"] == "at least"
    assert ratio["quote"] and ratio["clause"] and ratio["remedy"]
    assert body["words"]["outcomes"]["undetermined"] == "undetermined"
    assert body["words"]["statuses"]["manual_review"] == "needs a person"
    # every node a verdict names is in the catalogue
    verdict = client.post("/v1/evaluations", json={"profile": {"credit_code": "91370100CA85GF0T94"}}).json()
    hte = next(x for x in verdict["results"] if x["measure_id"] == "hte-recognition")
    assert {c["id"] for c in hte["criteria"]} <= set(nodes)


def test_get_measure_has_an_etag_a_client_can_cache_by(client):
    first = client.get("/v1/measures/hte-recognition")
    etag = first.headers["ETag"]
    again = client.get("/v1/measures/hte-recognition", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == etag
    english = client.get("/v1/measures/hte-recognition?lang=en", headers={"If-None-Match": etag})
    assert english.status_code == 200 and english.headers["ETag"] != etag
