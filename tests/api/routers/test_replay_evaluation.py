"""POST /v1/evaluations/{id}/replay: the stored input on its as_of, with the current rule pack."""

from __future__ import annotations

import shutil

import pytest
import yaml

from tests.api.conftest import RULES_DIR, assert_problem

CRITERION = "art11_1_registered_one_year"  # 高企认定 第十一条（一）：注册成立一年以上


def _find(node, criterion_id):
    if isinstance(node, dict):
        if node.get("id") == criterion_id:
            return node
        for child in node.get("all", []) + node.get("any", []) + ([node["not"]] if "not" in node else []):
            hit = _find(child, criterion_id)
            if hit:
                return hit
    return None


@pytest.fixture
def changed_pack(world, tmp_path):
    """The rule pack with the registration period of 高企认定 made five times as long (whatever its
    unit); the original pack is restored afterwards. Returns (swap, old value, new value)."""
    engine = world.app.state.engine
    original = engine.rules_dir
    copy = tmp_path / "rules"
    shutil.copytree(RULES_DIR, copy)
    path = next(copy.rglob("hte-recognition.yaml"))
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    param = _find(data["criteria"], CRITERION)["param"]
    values = data["parameters"][param]["values"]
    old = [v["value"] for v in values.values()][-1]
    for v in values.values():
        v["value"] = int(v["value"]) * 5
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")

    def swap():
        engine.reload(copy)

    yield swap, str(old), str(int(old) * 5)
    engine.reload(original)


def test_replay_evaluation_with_the_same_pack_changes_nothing(client, world, young_body):
    eid = client.post("/v1/evaluations", json=young_body, headers=world.ent_b.headers).json()["id"]
    r = client.post(f"/v1/evaluations/{eid}/replay", headers=world.ent_b.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["evaluation_id"] == eid
    assert body["pack_changed"] is False and body["changed"] is False and body["changes"] == []
    assert body["summary"] == "结果与保存时一致"
    assert body["result"]["as_of"] == "2025-06-30"


def test_replay_evaluation_shows_what_changed_per_measure(client, world, young_body, changed_pack):
    # registered 2023-09-01, assessed 2025-06-30: one year is met, five are not
    swap, old, new = changed_pack
    stored = client.post("/v1/evaluations", json=young_body, headers=world.ent_b.headers).json()
    before = next(x for x in stored["results"] if x["measure_id"] == "hte-recognition")
    assert before["outcome"] == "undetermined"
    swap()
    r = client.post(f"/v1/evaluations/{stored['id']}/replay?lang=en", headers=world.ent_b.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["pack_changed"] is True and body["changed"] is True
    assert (
        body["stored_rule_pack_version"] == stored["rule_pack_version"] != body["current_rule_pack_version"]
    )
    hte = next(c for c in body["changes"] if c["measure_id"] == "hte-recognition")
    assert hte["change"] == "changed"
    assert (hte["before"], hte["after"]) == ("undetermined", "ineligible")
    assert hte["outcome_changed"] is True
    crit = next(c for c in hte["criteria"] if c["id"] == CRITERION)
    assert (crit["before"], crit["after"]) == ("met", "unmet")
    assert (crit["expected_before"], crit["expected_after"]) == (old, new)
    assert body["result"]["lang"] == "en"
    # the stored evaluation itself is untouched
    again = client.get(f"/v1/evaluations/{stored['id']}", headers=world.ent_b.headers).json()
    assert again["results"] == stored["results"] and again["rule_pack_version"] == stored["rule_pack_version"]


def test_replay_evaluation_of_an_unknown_id_is_404(client, world):
    assert_problem(client.post("/v1/evaluations/abc/replay", headers=world.admin.headers), 404)
