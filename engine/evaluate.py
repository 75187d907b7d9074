"""The engine: evaluate a profile against the compiled rule pack into verdicts; words on request.

Flow of ``Engine.evaluate``: validate the profile → compile the pack as in force on ``as_of``
(cached) → for each dependency stage, derive the facts each rule group reads (plain values, exact
arithmetic), let the backend report which criteria are unmet, judge every node of each measure's
tree with its generated judge, and feed the outcomes to the next stage → one frozen ``Verdict``
per measure and subject. No display string is made on this path.

``Engine.render`` (and ``Engine.answer``, which does both) turns an evaluation into an answer:
the verdicts with a one-line summary, or the full explanation (``engine/explain.py``).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from . import scores as S
from .backends import get_backend, lint_hooks
from .compile import CompiledMeasure, CompiledPack, compile_key, compile_pack
from .errors import CompileError, InvalidOverride, InvalidProfile, UnknownMeasure
from .explain import FULL, VERDICT, Options, Renderer, benefit_figures
from .facts import Env, Unknown
from .judge import OUTCOME_OF_STATUS, decisive_missing, decisive_nodes, outcome_fact
from .loader import DEFAULT_RULES_DIR, Pack, load_pack
from .profile import Profile
from .schema import walk
from .verdict import ENTERPRISE, BenefitVerdict, Evaluation, ScoreVerdict, Subject, Verdict, rank_missing

GRANTED = ("eligible", "needs_review")


class _DayPlan:
    """What an evaluation on one day does, worked out once per compiled pack, day and measures
    asked for: the measures not applicable and why, and the rule groups to run in dependency
    order with their measures in force."""

    __slots__ = ("not_applicable", "steps")

    def __init__(self, cp: CompiledPack, as_of: dt.date, wanted: frozenset[str]) -> None:
        self.not_applicable: list[tuple[CompiledMeasure, str]] = []
        for mid in sorted(wanted):
            cm = cp.measures[mid]
            if not cm.in_force(as_of):
                reason = "no_parameter" if cm.measure.effective.contains(as_of) else "window"
                self.not_applicable.append((cm, reason))
        self.steps: list[tuple[Any, list[CompiledMeasure]]] = []
        for group in cp.groups:
            in_force = [
                cp.measures[mid]
                for mid in group.measure_ids
                if mid in wanted and cp.measures[mid].in_force(as_of)
            ]
            if in_force:
                self.steps.append((group, in_force))


class _Memo:
    """A bounded table, thread-safe for this use: a lost race computes a value twice, never wrongly."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.table: dict[Any, Any] = {}

    def get(self, key: Any, make: Any) -> Any:
        hit = self.table.get(key)
        if hit is None:
            if len(self.table) >= self.size:
                self.table.clear()
            hit = self.table[key] = make()
        return hit


class Engine:
    """Loads the rule pack, compiles it per parameter epoch, evaluates profiles. Thread-safe.

    The engine owns its caches: compiled packs by parameter epoch, day plans, the decisive and
    moot nodes by the statuses of a tree, and the renderer's words."""

    CACHE_SIZE = 32

    def __init__(self, rules_dir: Path | str | None = None, backend: str | None = None) -> None:
        self.rules_dir = (
            Path(rules_dir) if rules_dir else Path(os.environ.get("HUIQI_RULES_DIR", DEFAULT_RULES_DIR))
        )
        self.backend_name = backend or os.environ.get("HUIQI_BACKEND", "durable")
        self.backend = get_backend(self.backend_name)
        self.pack: Pack = load_pack(self.rules_dir, lint_hooks())
        self._compiled: OrderedDict[tuple, CompiledPack] = OrderedDict()
        self._by_day: dict[dt.date, CompiledPack] = {}  # the same model serves every day of an epoch
        self._lock = threading.Lock()
        self._plans = _Memo(4096)
        self._flags: dict[tuple, tuple[frozenset[str], frozenset[str]]] = {}
        self.renderer = Renderer()
        self._labels: dict[str, dict[str, dict[str, Any]]] = {}

    @property
    def version(self) -> str:
        return self.pack.version

    # -------------------------------------------------------------- the compiled pack

    def compiled(self, as_of: dt.date, overrides: dict[str, Any] | None = None) -> CompiledPack:
        if not overrides:
            hit = self._by_day.get(as_of)
            if hit is not None:
                return hit
        cp = self._compiled_for_key(as_of, overrides)
        if not overrides:
            with self._lock:
                if len(self._by_day) > 4096:
                    self._by_day.clear()
                self._by_day[as_of] = cp
        return cp

    def _compiled_for_key(self, as_of: dt.date, overrides: dict[str, Any] | None) -> CompiledPack:
        try:
            key = compile_key(self.pack, as_of, overrides)
        except Exception as e:  # noqa: BLE001 - an override that cannot even be written down
            raise InvalidOverride(str(e)) from None
        with self._lock:
            hit = self._compiled.get(key)
            if hit is not None:
                self._compiled.move_to_end(key)
                return hit
        try:
            cp = compile_pack(self.pack, as_of, overrides)
        except (ValidationError, ValueError, ArithmeticError) as e:
            if not overrides or isinstance(e, CompileError):
                raise
            raise InvalidOverride(_override_message(e)) from None
        with self._lock:
            hit = self._compiled.get(key)
            if hit is not None:
                return hit
            self._compiled[key] = cp
            while len(self._compiled) > self.CACHE_SIZE:
                _, old = self._compiled.popitem(last=False)
                self._by_day = {d: c for d, c in self._by_day.items() if c is not old}
                for g in old.groups:
                    self.backend.release(g)
        return cp

    def reload(self, rules_dir: Path | str | None = None) -> str:
        """Load a new pack and swap it in; the old rulesets are deleted once no evaluation uses them."""
        new_pack = load_pack(Path(rules_dir) if rules_dir else self.rules_dir, lint_hooks())
        with self._lock:
            old = list(self._compiled.values())
            self.pack = new_pack
            self._compiled = OrderedDict()
            self._by_day = {}
            if rules_dir:
                self.rules_dir = Path(rules_dir)
        for cp in old:
            for g in cp.groups:
                self.backend.release(g)
        return new_pack.version

    def _label_table(self) -> dict[str, dict[str, Any]]:
        pack = self.pack
        table = self._labels.get(pack.version)
        if table is None:
            table = {
                mid: {node.id: node.label for node, _ in walk(m.criteria)} for mid, m in pack.measures.items()
            }
            self._labels = {pack.version: table}
        return table

    def node_label(self, measure_id: str, node_id: str, lang: str = "zh") -> str | None:
        """The label of a criterion or group of a measure, in ``lang`` (None if there is none)."""
        text = self._label_table().get(measure_id, {}).get(node_id)
        return text.get(lang) if text is not None else None

    def node_labels(self, measure_id: str, lang: str = "zh") -> dict[str, str]:
        """Every criterion and group of a measure: id → label in ``lang`` (empty for no such measure)."""
        return {nid: label.get(lang) for nid, label in self._label_table().get(measure_id, {}).items()}

    # -------------------------------------------------------------- evaluation

    def evaluate(
        self,
        profile: Profile | dict,
        as_of: dt.date | str | None = None,
        measures: list[str] | None = None,
        overrides: dict[str, Any] | None = None,
    ) -> Evaluation:
        """The verdicts of every measure asked for (all by default; the measures they depend on
        are evaluated too, not reported). Raises ``InvalidProfile``, ``UnknownMeasure`` or
        ``InvalidOverride`` — never pydantic's errors raw."""
        if not isinstance(profile, Profile):
            try:
                profile = Profile.model_validate(profile)
            except ValidationError as e:
                raise InvalidProfile(e) from None
        if as_of is None:
            as_of = dt.date.today()
        elif isinstance(as_of, str):
            as_of = dt.date.fromisoformat(as_of)
        cp = self.compiled(as_of, overrides)
        unknown = [m for m in measures or () if m not in cp.measures]
        if unknown:
            raise UnknownMeasure(unknown)
        wanted = frozenset(_with_dependencies(cp, measures) if measures else cp.measures)
        plan = self._plans.get((id(cp), as_of, wanted), lambda: _DayPlan(cp, as_of, wanted))
        asked = set(measures) if measures else wanted
        verdicts, envs = self._run(cp, plan, profile, as_of, asked)
        return Evaluation(
            profile.credit_code,
            profile.name,
            as_of,
            cp.version,
            self.backend.name,
            verdicts,
            rank_missing(verdicts),
            tuple(measures) if measures else None,
            profile,
            envs,
            cp,
        )

    def render(self, evaluation: Evaluation, options: Options = VERDICT) -> dict[str, Any]:
        """The answer to an evaluation: its verdicts with a one-line summary each (the default), or
        the full explanation (``Options("full")``), in ``options.lang``."""
        return self.renderer.answer(evaluation, options)

    def reasons(self, v: Verdict, lang: str = "zh", overrides: dict[str, Any] | None = None) -> str:
        """Why, in words, from a verdict alone (one stored without its facts): the decisive
        failures and what they require, the missing facts, what a reviewer must judge, or the
        benefit expected. ``overrides``: those the verdict was made under."""
        return self.renderer.reasons(v, self.compiled(v.as_of, overrides), lang)

    def answer(
        self,
        profile: Profile | dict,
        as_of: dt.date | str | None = None,
        measures: list[str] | None = None,
        options: Options = VERDICT,
        overrides: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return self.render(self.evaluate(profile, as_of, measures, overrides), options)

    def explain(
        self,
        profile: Profile | dict,
        as_of: dt.date | str | None = None,
        measures: list[str] | None = None,
        lang: str = "zh",
    ) -> dict[str, Any]:
        """The full explanation of a profile (the self-check page, ``huiqi check``)."""
        return self.answer(profile, as_of, measures, Options("full", lang))  # type: ignore[arg-type]

    def _run(
        self, cp: CompiledPack, plan: _DayPlan, profile: Profile, as_of: dt.date, asked: set[str]
    ) -> tuple[tuple[Verdict, ...], dict[str | None, Env]]:
        env = Env(profile, as_of, cp.pack_params)
        envs: dict[str | None, Env] = {None: env}
        version = cp.version
        # (rank, cm, subject, outcome, statuses or reason, actual, missing, env) per result
        rows: list[tuple] = []
        for cm, reason in plan.not_applicable:
            rows.append((cm.rank, cm, _na_subject(cm), "not_applicable", reason, None, None, None))
            if cm.measure.subject == "enterprise":
                env.values[cm.outcome_path] = "not_applicable"
        project_envs: list[tuple[str, Env, Subject]] | None = None
        run = self.backend.run
        for group, in_force in plan.steps:
            if group.subject == "enterprise":
                contexts = [("e", env, ENTERPRISE)]
            else:
                if project_envs is None:
                    project_envs = []
                    for i, p in enumerate(profile.projects):
                        penv = env.for_project(p)
                        envs[p.id] = penv
                        project_envs.append((f"p{i}", penv, Subject("project", p.id, p.name)))
                contexts = project_envs
                if not contexts:
                    for cm in in_force:
                        rows.append(
                            (cm.rank, cm, _na_subject(cm), "not_applicable", "no_subject", None, None, None)
                        )
                    continue
            subjects = []
            for key, e, _ in contexts:
                for cm in group.scored_measures:
                    e.values.update(S.compute(e, cm.score_plans, cm.score_check))
                if group.facts is not None:
                    subjects.append((key, group.facts(e)))
                else:
                    get = e.get
                    subjects.append((key, {path: get(path) for path in group.fact_paths}))
            unmet = run(group, subjects)
            for (key, e, subject), (_, facts) in zip(contexts, subjects, strict=True):
                hits = unmet[key]
                for cm in in_force:
                    statuses, top, actual = cm.judge(facts, hits)
                    outcome = OUTCOME_OF_STATUS[top]
                    missing = decisive_missing(cm, statuses, facts) if outcome == "undetermined" else ()
                    if subject is ENTERPRISE:
                        env.values[cm.outcome_path] = outcome_fact(cm, outcome, missing)
                    if cm.id in asked:
                        rows.append((cm.rank, cm, subject, outcome, statuses, actual, missing, e))
        rows.sort(key=_first)
        granted = {(r[1].id, r[2].id) for r in rows if r[3] in GRANTED}
        flags = self._flags
        verdicts = []
        for _, cm, subject, outcome, statuses, actual, missing, e in rows:
            if outcome == "not_applicable":
                verdicts.append(Verdict(cm.id, subject, outcome, as_of, version, reason=statuses))
                continue
            key = (cm, statuses)
            hit = flags.get(key)
            if hit is None:
                if len(flags) >= _FLAGS:
                    flags.clear()
                hit = flags[key] = decisive_nodes(cm, statuses)
            if outcome in GRANTED:
                benefit = _benefit(cm, e)
                # measures it cannot be stacked with (``excludes``, either way) granted to the same subject
                stacked = (
                    tuple(mid for mid in cm.excludes if (mid, subject.id) in granted) if cm.excludes else ()
                )
            else:
                benefit, stacked = None, ()
            verdicts.append(
                Verdict(
                    cm.id,
                    subject,
                    outcome,
                    as_of,
                    version,
                    statuses,
                    actual,
                    _expected(cm, e) if cm.tiered else cm.expected,
                    hit[0],
                    hit[1],
                    missing,
                    benefit,
                    stacked,
                    _scores(cm, e) if cm.measure.scores else (),
                )
            )
        return tuple(verdicts), envs


_FLAGS = 100_000  # decisive and moot nodes kept, by compiled measure and statuses


def _first(row: tuple) -> int:
    return row[0]


def _na_subject(cm: CompiledMeasure) -> Subject:
    return ENTERPRISE if cm.measure.subject == "enterprise" else Subject("project")


def _expected(cm: CompiledMeasure, env: Env) -> tuple[Any, ...]:
    out = []
    for cl in cm.leaves:
        if cl.tiers is None:
            out.append(cl.expected)
        else:
            by = env.get(cl.by.path)
            out.append(None if type(by) is Unknown else cl.expected_for(by))
    return tuple(out)


def _benefit(cm: CompiledMeasure, env: Env) -> BenefitVerdict:
    b = cm.measure.benefit
    figures, provisional = benefit_figures(cm, env)
    f = dict(figures)
    return BenefitVerdict(
        b.kind,
        b.unit.value if b.unit else None,
        amount=f.get("amount"),
        rate=f.get("rate"),
        base=f.get("base"),
        cap=f.get("cap"),
        tier=f.get("tier"),
        tier_missing=tuple(f.get("tier_missing") or ()),
        provisional=provisional,
    )


def _scores(cm: CompiledMeasure, env: Env) -> tuple[ScoreVerdict, ...]:
    out = []
    for s in cm.measure.scores:
        path = f"score.{s.id}"
        total = env.get(path)
        parts = tuple((p.id, _known(env.get(f"{path}.{p.id}"))) for p in s.parts)
        out.append(ScoreVerdict(s.id, _known(total), parts))
    return tuple(out)


def _known(v: Any) -> Any:
    return None if type(v) is Unknown else v


def _with_dependencies(cp: CompiledPack, measures: list[str]) -> set[str]:
    wanted = set(measures)
    frontier = list(measures)
    while frontier:
        for dep in cp.measures[frontier.pop()].depends_on:
            if dep not in wanted:
                wanted.add(dep)
                frontier.append(dep)
    return wanted


def _override_message(e: Exception) -> str:
    """What was wrong with a tried parameter value, in words (pydantic's and decimal's own texts
    name internal classes)."""
    if isinstance(e, ValidationError):
        first = e.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"{where}: {first['msg']}" if where else str(first["msg"])
    if isinstance(e, ArithmeticError):
        return "not a number that can be compared exactly"
    return str(e)


__all__ = ["Engine", "FULL", "VERDICT", "Options"]
