"""GET /v1/evaluations/{id}: a stored evaluation keeps its input, its verdicts and the rule pack
version; its full explanation is written when it is read, and is the same as when it was made."""

from __future__ import annotations

from api.models import Evaluation
from tests.api.conftest import assert_problem


def test_get_evaluation_returns_the_stored_verdicts(client, world, young_body):
    created = client.post("/v1/evaluations", json=young_body, headers=world.ent_b.headers).json()
    stored = client.get(f"/v1/evaluations/{created['id']}", headers=world.ent_b.headers).json()
    assert stored["results"] == created["results"]
    assert stored["input"]["detail"] == "verdict" and stored["input"]["lang"] == "zh"
    hte = next(r for r in stored["results"] if r["measure_id"] == "hte-recognition")
    assert hte["summary"] == "缺少：创新能力评价得分" and "title" not in hte


def test_get_evaluation_full_is_the_explanation_it_had_when_made(client, world, young_body):
    """Rendered from the stored input with the same pack: identical to the full answer of the day,
    in either language."""
    created = client.post("/v1/evaluations", json=young_body, headers=world.ent_b.headers).json()
    for lang in ("zh", "en"):
        then = client.post(f"/v1/evaluations?lang={lang}", json={**young_body, "detail": "full"}).json()
        read = client.get(
            f"/v1/evaluations/{created['id']}?detail=full&lang={lang}", headers=world.ent_b.headers
        ).json()
        assert read["results"] == then["results"]
        assert read["missing_facts"] == then["missing_facts"]
        assert read["lang"] == lang


def test_get_evaluation_full_whose_rule_pack_is_gone_is_a_409(client, world, young_body):
    created = client.post("/v1/evaluations", json=young_body, headers=world.ent_b.headers).json()
    with world.app.state.sessionmaker() as db:
        db.get(Evaluation, created["id"]).rule_pack_version = "sha256:0000000000000000"
        db.commit()
    r = client.get(f"/v1/evaluations/{created['id']}?detail=full", headers=world.ent_b.headers)
    body = assert_problem(r, 409, "rule-pack-unavailable")
    assert "replay" in body["detail"] or "重放" in body["detail"]
    # the stored verdicts are still there
    assert client.get(f"/v1/evaluations/{created['id']}", headers=world.ent_b.headers).status_code == 200


def test_get_evaluation_refuses_a_detail_it_does_not_know(client, world, young_body):
    created = client.post("/v1/evaluations", json=young_body, headers=world.ent_b.headers).json()
    r = client.get(f"/v1/evaluations/{created['id']}?detail=compact", headers=world.ent_b.headers)
    assert_problem(r, 422)


def test_an_enterprise_sees_no_staff_user_name_on_its_evaluations(client, world, young_body):
    """A reviewer stored it: the enterprise it concerns sees that the bureau did, not who."""
    created = client.post("/v1/evaluations", json=young_body, headers=world.reviewer.headers).json()
    own = client.get(f"/v1/evaluations/{created['id']}", headers=world.ent_b.headers).json()
    listed = client.get("/v1/evaluations", headers=world.ent_b.headers).json()["items"]
    assert world.reviewer.username not in (own["created_by"], *[x["created_by"] for x in listed])
    staff = client.get(f"/v1/evaluations/{created['id']}", headers=world.admin.headers).json()
    assert staff["created_by"] == world.reviewer.username
