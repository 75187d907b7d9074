"""The Dask recipe of docs/screening.md on a local cluster of two worker processes: profile-table
partitions mapped through ``screen_partition`` give the verdicts one machine gives."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from engine import Engine
from engine.population import Population
from intake.distributed import screen_partition, write_partitions
from tests.population import population

distributed = pytest.importorskip("dask.distributed")


def test_partitions_mapped_on_a_local_cluster_give_the_verdicts_of_one_machine(tmp_path):
    people = population(240, seed=41)
    src = tmp_path / "in.jsonl"
    lines = [json.dumps(p, ensure_ascii=False) for p in people]
    lines[5] = json.dumps({"as_of": "2024-03-01", "profile": people[5]}, ensure_ascii=False)  # its own date
    lines.insert(100, "{not json")
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    parts = write_partitions(src, tmp_path / "parts", rows=60)
    assert len(parts) == 5
    errors = [json.loads(x) for x in (tmp_path / "parts" / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [e["row"] for e in errors] == [101]

    as_of = dt.date(2025, 6, 30)
    targets = [str(tmp_path / "verdicts" / p.name) for p in parts]
    (tmp_path / "verdicts").mkdir()
    with (
        distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        futures = client.map(screen_partition, [str(p) for p in parts], targets, as_of=as_of, batch_rows=25)
        done = client.gather(futures)
    assert done == targets

    got = pl.concat([pl.read_parquet(t) for t in targets])
    tables = pl.concat([pl.read_parquet(p) for p in parts])
    want = Population(Engine(backend="python")).verdicts(tables, as_of)
    assert got.equals(want)
    assert got["row"].n_unique() == 240 and 101 not in got["row"].to_list()
