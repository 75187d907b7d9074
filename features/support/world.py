"""One scenario's state: the assessment date, the profile, what was evaluated and which result is spoken of."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from . import explain
from .clients import EvaluationClient, ProfileRejected
from .vocab import ScenarioError, measure


@dataclass
class World:
    client: EvaluationClient
    as_of: str | None = None
    as_of_explicit: bool = False
    profile: dict | None = None
    measures: list[str] | None = None  # what the 当 step asked for (None: every measure)
    response: dict | None = None
    rejected: ProfileRejected | None = None
    focus_measure: str | None = None
    focus_project: str | None = None  # None: the enterprise (or the only result)
    evaluations: list[dict[str, Any]] = field(default_factory=list)  # for `huiqi rules coverage`
    spoken: set[str] = field(default_factory=set)  # measures a 那么 step spoke of
    spoken_result: dict | None = None  # the result the last 那么 step read (described when it fails)
    example: str | None = None  # the example the profile started from, if any
    typed: dict[str, str] = field(default_factory=dict)  # field path → its name as the scenario wrote it
    written: set[str] = field(default_factory=set)  # the paths the scenario itself set (not the example)
    sent_profile: dict | None = None  # the profile as last sent (the indices of a refusal refer to it)

    # ------------------------------------------------------------ before the evaluation

    def need_profile(self) -> dict:
        if self.profile is None:
            raise ScenarioError(
                '还没有企业：请先写 假如一家企业的情况如下: （表格）或 假如一家企业的情况同示例 "名称"'
            )
        return self.profile

    def last_year(self) -> int | None:
        return dt.date.fromisoformat(self.as_of).year - 1 if self.as_of else None

    def forget_result(self) -> None:
        self.response = None
        self.rejected = None
        self.spoken_result = None

    def start(self, profile: dict, example: str | None = None) -> None:
        """A new enterprise: blank, or an example's (whose figures the scenario did not write)."""
        self.profile = profile
        self.example = example
        self.written = set()
        self.forget_result()

    def wrote(self, path: str, typed: str) -> None:
        self.typed[path] = typed
        self.written.add(path)

    # ------------------------------------------------------------ the evaluation

    def evaluate(self, measures: list[str] | None) -> None:
        if self.as_of is None:
            raise ScenarioError('没有评估日期：请先写 假如评估日期为 "YYYY-MM-DD"')
        profile = self.need_profile()
        self.measures = measures
        self.focus_measure = measures[0] if measures else None
        self.focus_project = None
        self.forget_result()
        self.sent_profile = profile
        try:
            self.response = self.client.evaluate(profile, self.as_of, measures, "zh")
        except ProfileRejected as e:
            self.rejected = e
            return
        for r in self.response["results"]:
            self.evaluations.append(
                {
                    "measure_id": r["measure_id"],
                    "requested": measures is not None and r["measure_id"] in measures,
                    "subject": r["subject"].get("id"),
                    "outcome": r["outcome"],
                    "criteria": {c["id"]: c["status"] for c in r.get("criteria", []) if "id" in c},
                }
            )

    def rejection(self) -> str:
        """The refusal in the officer's terms (see explain.rejection)."""
        assert self.rejected is not None
        return explain.rejection(
            self.rejected.problem, self.sent_profile or {}, self.typed, self.example, self.written
        )

    def need_response(self) -> dict:
        if self.rejected is not None:
            raise AssertionError(f"画像未通过校验，评估被拒绝：\n{self.rejection()}")
        if self.response is None:
            raise ScenarioError('还没有评估：请先写 当按"措施名称"评估')
        return self.response

    def exercised(self) -> list[dict[str, Any]]:
        """The evaluations that count for coverage: of measures asked for by name, or spoken of."""
        return [
            {k: v for k, v in e.items() if k != "requested"}
            for e in self.evaluations
            if e["requested"] or e["measure_id"] in self.spoken
        ]

    # ------------------------------------------------------------ which result a 那么 step speaks of

    def results_of(self, mid: str) -> list[dict]:
        results = [r for r in self.need_response()["results"] if r["measure_id"] == mid]
        if not results:
            asked = "、".join(self.measures) if self.measures else "全部措施"
            raise ScenarioError(f"评估结果中没有措施 {mid}（本场景评估的是：{asked}）")
        return results

    def result(self) -> dict:
        mid = self.focus_measure
        if mid is None:
            raise ScenarioError(
                '评估了全部措施：请写明是哪项措施的结果，如 那么"高新技术企业认定条件"的结果为"符合"'
            )
        results = self.results_of(mid)
        self.spoken.add(mid)
        if self.focus_project is not None:
            for r in results:
                if r["subject"].get("id") == self.focus_project:
                    self.spoken_result = r
                    return r
            subjects = "、".join(str(r["subject"].get("id")) for r in results)
            raise ScenarioError(f"{mid} 没有项目 {self.focus_project!r} 的结果；有结果的项目：{subjects}")
        if len(results) == 1:
            self.spoken_result = results[0]
            return results[0]
        subjects = "、".join(str(r["subject"].get("id")) for r in results)
        raise ScenarioError(
            f"{measure(mid).title.zh} 按项目评估，有 {len(results)} 个结果（项目 {subjects}）："
            f'请写 那么项目 "编号" 的结果为"…"'
        )

    def describe(self, r: dict) -> str:
        """One result in the officer's terms (features/support/explain.py)."""
        return explain.describe(r, self.typed)

    def failure_context(self) -> str:
        """What a failed 那么 step shows after its own line: the result it read, in full, and the
        other results of the evaluation one line each, so that each result is printed once."""
        if self.rejected is not None:
            return f"画像未通过校验，评估被拒绝：\n{self.rejection()}"
        if self.response is None:
            return ""
        results = self.response["results"]
        shown = self.spoken_result
        if shown is None and len(results) == 1:
            shown = results[0]
        parts = [self.describe(shown)] if shown is not None else []
        rest = explain.others(results, shown)
        if rest:
            parts.append(rest)
        return "\n\n".join(parts)
