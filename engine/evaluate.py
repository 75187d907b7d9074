"""Evaluate a profile against the compiled rule pack and explain every verdict.

Flow: validate the profile → compile the pack as in force on ``as_of`` (cached) → for each
dependency stage, compute the facts each ruleset needs, let the backend report which failure and
missing-fact rules fired, combine the criteria three-valued, and feed the outcomes to the next
stage → explain: actual and expected values, the gap and what it would take, the remedy, the
missing facts ranked by how many outcomes they decide, the benefit.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import threading
from collections import Counter, OrderedDict
from decimal import ROUND_CEILING, Decimal, localcontext
from pathlib import Path
from typing import Any

from . import facts as F
from .backends import EngineError, get_backend, leaf_fires
from .compile import CompiledLeaf, CompiledMeasure, CompiledPack, compile_key, compile_pack
from .i18n import OP_WORDS_ZH_EN, OUTCOMES, STATUSES, path_label, pick, show
from .loader import DEFAULT_RULES_DIR, Pack, load_pack
from .profile import Profile
from .schema import COMPARISON_OPS, Group, Leaf, Op, PointsRow, ScorePart

NOT_APPLICABLE_REASONS = {
    "window": ("评估日不在该措施的有效期内", "the measure is not in force on the assessment date"),
    "no_parameter": (
        "评估日尚无该措施参数的有效取值",
        "no value of the measure's parameters is in force on that date",
    ),
    "no_subject": ("没有可适用的项目", "no project to apply it to"),
}
OUTCOME_OF_STATUS = {
    "met": "eligible",
    "unmet": "ineligible",
    "unknown": "undetermined",
    "manual_review": "needs_review",
}


NEGATION = {"met": "unmet", "unmet": "met"}  # ``not``: unknown and manual_review stay as they are


def combine(kind: str, statuses: list[str]) -> str:
    """Three-valued combination of the contract (profile.md, "Combination")."""
    if kind == "not":
        s = statuses[0]
        return NEGATION.get(s, s)
    if kind == "all":
        for s in ("unmet", "unknown", "manual_review"):
            if s in statuses:
                return s
        return "met"
    for s in ("met", "unknown", "manual_review"):  # any: the mirror image, one met wins
        if s in statuses:
            return s
    return "unmet"


def leaf_status(leaf: CompiledLeaf, fired: set[str], facts: dict[str, F.Fact]) -> str:
    if leaf.node.op is Op.manual:
        return "manual_review"
    if leaf.missing_name in fired:
        # a ratio over zero is not missing: a person must judge it
        for spec in (leaf.spec, leaf.by):
            if spec is not None and facts[spec.path].undefined and not facts[spec.path].missing:
                return "manual_review"
        return "unknown"
    if leaf.unmet_name in fired:
        return "unmet"
    return "met"


# ------------------------------------------------------------------ scores


def _points(table: list[PointsRow], value: Decimal) -> Decimal:
    for row in table:
        if value >= row.at_least:
            return row.points
    return Decimal(0)


def _part(
    ctx: F.Context, part: ScorePart, params: dict[str, Any]
) -> tuple[Decimal | None, tuple[str, ...], Any]:
    """(points or None, the facts missing, a function writing how the points came about)."""
    if part.max_of:
        best: Decimal | None = None
        missing: list[str] = []
        notes = []
        top = Decimal(0)
        for alt in part.max_of:
            pts, miss, note = _part(ctx, alt, params)
            table = params[alt.table] if alt.table else None
            if table:
                top = max(top, max(r.points for r in table))
            if pts is None:
                missing += miss
            else:
                best = pts if best is None else max(best, pts)
                notes.append(note)
        if missing and (best is None or best < top):
            return None, tuple(missing), _NO_NOTE
        return best, (), lambda: "取高者：" + "；".join(n() for n in notes)
    assert part.fact is not None and part.table is not None
    f = ctx.get(part.fact)
    if f.value is None:
        if f.undefined and not f.missing:
            return Decimal(0), (), lambda: f"{part.label.zh}：{f.undefined}，计0分"
        return None, f.missing, _NO_NOTE
    pts = _points(params[part.table], Decimal(f.value))
    unit = F.SPECS[part.fact].unit if part.fact in F.SPECS else None
    return pts, (), lambda: f"{part.label.zh} {show(f.value, unit)} → {pts}分"


def _NO_NOTE() -> str:
    return ""


def _notes(notes: list[Any]) -> str:
    return "；".join(n() for n in notes)


def _part_max(part: ScorePart, params: dict[str, Any]) -> Decimal:
    if part.max_of:
        return max(_part_max(alt, params) for alt in part.max_of)
    return max((r.points for r in params[part.table]), default=Decimal(0))


def compute_scores(ctx: F.Context, cm: CompiledMeasure) -> dict[str, F.Fact]:
    """``score.<id>`` and ``score.<id>.<part>`` facts of a measure.

    Where parts are unknown, the score is known all the same if every criterion on it decides
    alike at the lowest and the highest total the unknown parts allow (e.g. 20 + 50 points
    already reach 60, whatever the IP part scores)."""
    out: dict[str, F.Fact] = {}
    for score in cm.measure.scores:
        path = F.score_fact_path(score.id)
        total = Decimal(0)
        headroom = Decimal(0)
        missing: list[str] = []
        notes = []
        for part in score.parts:
            pts, miss, note = _part(ctx, part, cm.params)
            ppath = f"{path}.{part.id}"
            if pts is None:
                missing += miss
                headroom += _part_max(part, cm.params)
                out[ppath] = F.Fact(missing=tuple(miss))
            else:
                total += pts
                notes.append(note)
                out[ppath] = F.Fact(pts, inputs={ppath: pts}, formula=note)
        parts = {p.id: out[f"{path}.{p.id}"].value for p in score.parts}
        if not missing:
            out[path] = F.Fact(
                total,
                inputs=parts,
                formula=lambda notes=notes, total=total: _notes(notes) + f"；合计 {total}分",
            )
            continue
        low, high = F.Fact(total), F.Fact(total + headroom)
        users = [cl for cl in cm.leaves if cl.spec is not None and cl.spec.path == path and cl.tiers is None]
        if users and all(leaf_fires(cl, {path: low}) == leaf_fires(cl, {path: high}) for cl in users):
            note = f"部分指标未知（{'、'.join(dict.fromkeys(missing))}），已知部分 {total}分，最高可能 {total + headroom}分，不影响结论"
            out[path] = F.Fact(
                total, inputs=parts, formula=lambda notes=notes, note=note: _notes(notes) + "；" + note
            )
        else:
            out[path] = F.Fact(missing=tuple(dict.fromkeys(missing)))
    return out


# ------------------------------------------------------------------ explanations


def _gap(leaf: CompiledLeaf, actual: Any, expected: Any, lang: str) -> tuple[Any, str | None, str | None]:
    """How far an unmet numeric criterion is, and what it would take (where the enterprise can act)."""
    op = leaf.node.op
    if op not in COMPARISON_OPS or not isinstance(actual, Decimal | int) or isinstance(actual, bool):
        return None, None, None
    actual = Decimal(actual)
    gap = (expected - actual) if op in (Op.gt, Op.gte) else (actual - expected)
    unit = leaf.node.unit.value
    if unit == "ratio":
        points = (gap * 100).quantize(Decimal("0.01"), rounding=ROUND_CEILING)
        text = (
            f"差 {points.normalize():f} 个百分点"
            if lang != "en"
            else f"short by {points.normalize():f} percentage points"
        )
    else:
        text = f"差 {show(gap, unit)}" if lang != "en" else f"short by {show(gap, unit, 'en')}"
    if op is Op.gt and gap == 0:
        text = "恰好等于该值，须超过" if lang != "en" else "exactly at the threshold, which must be exceeded"
    elif op is Op.lt and gap == 0:
        text = (
            "恰好等于该值，须低于" if lang != "en" else "exactly at the threshold, which must not be reached"
        )
    elif op is Op.gt:
        text += "（须超过该值）" if lang != "en" else " (must exceed it)"
    elif op is Op.lt:
        text += "（须低于该值）" if lang != "en" else " (must be below it)"
    return gap, text, None


def _need_for_ratio(leaf: CompiledLeaf, f: F.Fact, expected: Decimal, lang: str) -> str | None:
    if f.parts is None or leaf.node.op not in (Op.gt, Op.gte):
        return None
    num_path, num, den_path, den = f.parts
    num_spec = F.SPECS.get(num_path)
    if num_spec is None or not num_spec.changeable:
        return None
    with localcontext() as c:
        c.prec = 40
        required = Decimal(expected) * Decimal(den) - Decimal(num)
    if required <= 0:
        return None
    den_spec = F.SPECS.get(den_path)
    if num_spec.unit == "people":
        n = math.ceil(required) + (1 if leaf.node.op is Op.gt and required == int(required) else 0)
        return (
            f"按{den_spec.zh if den_spec else ''} {show(den, den_spec.unit if den_spec else None)}计，{num_spec.zh}需至少增加 {n} 人"
            if lang != "en"
            else f"with {den_spec.en if den_spec else 'the denominator'} at {den}, {num_spec.en} must rise by at least {n}"
        )
    amount = required.quantize(Decimal("0.01"), rounding=ROUND_CEILING)
    more = "以上" if leaf.node.op is Op.gt else ""
    return (
        f"按{den_spec.zh if den_spec else ''} {show(den, 'wan_yuan')}计，{num_spec.zh}约需再增加 {show(amount, 'wan_yuan')}{more}"
        if lang != "en"
        else f"at {den_spec.en if den_spec else 'the denominator'} of {den} (×10k CNY), {num_spec.en} would need about {amount} more"
    )


EXPLAINED_PER_LEAF = 2_000


def _tree(cm: CompiledMeasure) -> list[tuple[Any, CompiledLeaf | None, str | None, int]]:
    """The criteria tree in reading order: (node, its compiled leaf or None for a group, parent, depth)."""
    if cm.tree is None:
        leaf_by_id = cm.leaf_by_id
        rows: list[tuple[Any, CompiledLeaf | None, str | None, int]] = []

        def visit(node: Any, parent: str | None, depth: int) -> None:
            if isinstance(node, Group):
                rows.append((node, None, parent, depth))
                for child in node.children:
                    visit(child, node.id, depth + 1)
            else:
                rows.append((node, leaf_by_id[node.id], parent, depth))

        visit(cm.measure.criteria, None, 0)
        cm.tree = rows
    return cm.tree


def _summary(outcome: str, unmet: list[str], missing: list[dict], lang: str) -> str:
    en = lang == "en"
    if outcome == "eligible":
        # not "all criteria": an alternative of an any-of group may be unmet in an eligible result
        return "the measure's conditions are met" if en else "满足本措施的条件"
    if outcome == "ineligible":
        return ("not met: " + ", ".join(unmet)) if en else "未满足：" + "、".join(unmet)
    if outcome == "undetermined":
        names = [x["label"] for x in missing]
        return ("missing: " + ", ".join(names)) if en else "缺少：" + "、".join(names)
    return (
        "every automatic criterion is met; some need a reviewer"
        if en
        else "自动判定的条件均满足，部分条件需人工审核"
    )


def _group_row(node: Group, parent: str | None, depth: int, status: str, lang: str) -> dict:
    word = pick(STATUSES[status], lang)
    label = node.label.get(lang)
    return {
        "id": node.id,
        "kind": node.kind,
        "parent": parent,
        "depth": depth,
        "label": label,
        "status": status,
        "status_label": word,
        "clause": node.clause,
        "quote": node.quote,
        "explanation": f"{label}：{word}" if lang != "en" else f"{label}: {word}",
    }


def _group_row_cached(
    cm: CompiledMeasure, node: Group, parent: str | None, depth: int, status: str, lang: str
) -> dict:
    """A group's row (shared: copy it before changing it); it depends only on its status and the language."""
    key = (node.id, status, lang)
    row = cm.rows.get(key)
    if row is None:
        row = cm.rows[key] = _group_row(node, parent, depth, status, lang)
    return row


def explain_leaf(
    leaf: CompiledLeaf, status: str, facts: dict[str, F.Fact], lang: str, full: bool = True
) -> dict:
    """One criterion's verdict for people. Its text depends only on the values compared, so the
    explanation of a value seen before (a flag, an enum, a year count, a common number) is reused;
    a derived fact's arithmetic (``formula``), which depends on its inputs, is added to the reused
    row. A ratio's row is not kept: its 40-digit value is seldom seen twice. The caller gets its
    own copy when ``full`` (bulk screening's compact shape only reads it).

    Where it sits in the tree (parent, depth) is the leaf's own: the same whoever asks first."""
    fact = leaf.node.fact
    f = facts.get(fact) if fact else None
    if f is not None and f.parts is not None:
        out = _explain_leaf(leaf, status, facts, lang)
        if full and f.formula:
            out["formula"] = f.formula_text()
        return out
    # the band's fact, when the threshold is tiered: its value picks the band, its missing inputs
    # are named when it is unknown
    by = (str(facts[leaf.by.path].value), facts[leaf.by.path].missing) if leaf.by is not None else None
    # exact text, not numeric equality: 630.00 and 630 are equal but are shown as given, and an
    # output must not depend on which of them was evaluated first
    if f is None:
        key: tuple = (lang, status, by)
    else:
        value = f.value
        key = (lang, status, str(value), type(value), f.missing, f.undefined, by)
    seen = leaf.explained
    out = seen.get(key)
    if out is None:
        out = _explain_leaf(leaf, status, facts, lang)
        if len(seen) >= EXPLAINED_PER_LEAF:
            seen.clear()
        seen[key] = out
    if not full:
        return out
    out = out.copy()
    if f is not None and f.formula:
        out["formula"] = f.formula_text()
    return out


_STATUS_WORDS = {lang: {k: pick(v, lang) for k, v in STATUSES.items()} for lang in ("zh", "en")}


def _leaf_static(leaf: CompiledLeaf, lang: str) -> tuple:
    """What a criterion's explanation says whatever the profile: the row's fixed keys, its label,
    unit and operator words, and the expected value when it is not tiered."""
    static = leaf.templates.get(lang)
    if static is None:
        node = leaf.node
        unit = node.unit.value
        template = {
            "id": node.id,
            "kind": "criterion",
            "parent": leaf.parent,
            "depth": leaf.depth,
            "label": node.label.get(lang),
            "status": None,
            "status_label": None,
            "fact": node.fact,
            "op": node.op.value,
            "unit": unit,
            "clause": node.clause,
            "quote": node.quote,
            "provisional": leaf.param_status == "provisional",
        }
        word = pick(OP_WORDS_ZH_EN[node.op.value], lang)
        expected = leaf.expected
        shown = f"{word} {show(expected, unit, lang)}" if expected is not None else word
        static = leaf.templates[lang] = (
            template,
            template["label"],
            unit,
            word,
            _jsonable(expected),
            shown,
            node.remedy.get(lang) if node.remedy is not None else None,
            node.interpretation,
            leaf.by.label(lang) if leaf.by is not None else None,
        )
    return static


def _explain_leaf(leaf: CompiledLeaf, status: str, facts: dict[str, F.Fact], lang: str) -> dict:
    """The row of a criterion, without the fact's arithmetic (``explain_leaf`` adds it)."""
    node: Leaf = leaf.node
    template, label, unit, word, expected_json, expected_display, remedy, interpretation, by_label = (
        _leaf_static(leaf, lang)
    )
    en = lang == "en"
    out = template.copy()
    out["status"] = status
    out["status_label"] = _STATUS_WORDS[lang][status]
    f = facts.get(node.fact) if node.fact else None
    actual = f.value if f else None
    expected = leaf.expected
    if leaf.tiers is not None and leaf.by is not None:
        by = facts[leaf.by.path]
        if by.value is not None:
            expected = leaf.expected_for(by.value)
            out["band"] = f"{by_label} {show(by.value, leaf.by.unit, lang)}"
        else:
            expected = None
        expected_json = _jsonable(expected)
        expected_display = f"{word} {show(expected, unit, lang)}" if expected is not None else word
    out["actual"] = _jsonable(actual)
    actual_display = out["actual_display"] = show(actual, unit, lang) if f else None
    out["expected"] = expected_json
    out["expected_display"] = expected_display
    if status == "met":
        text = (
            f"{label}: {actual_display}, {expected_display}: met"
            if en
            else f"{label}：{actual_display}，{expected_display}，满足"
        )
    elif status == "unmet":
        text = (
            f"{label}: {actual_display}, required {expected_display}"
            if en
            else f"{label}：{actual_display}，要求{expected_display}"
        )
        if expected is not None and not isinstance(expected, list):
            gap, gap_text, _ = _gap(leaf, actual, expected, lang)
            if gap is not None:
                out["gap"] = _jsonable(gap)
                out["gap_display"] = gap_text
                text += "; " + gap_text if en else "，" + gap_text
                need = _need_for_ratio(leaf, f, expected, lang) if f is not None else None
                if need:
                    out["need"] = need
                    text += "; " + need if en else "；" + need
    elif status == "unknown":
        missing = list((f.missing if f else ()) + ((facts[leaf.by.path].missing) if leaf.by else ()))
        out["missing_facts"] = list(dict.fromkeys(missing))
        names = (", " if en else "、").join(path_label(m, lang) for m in out["missing_facts"])
        text = f"{label}: {names} missing, cannot decide" if en else f"{label}：缺少{names}，无法判定"
    else:
        reason = None
        if f is not None and f.undefined:
            reason = f.undefined
        text = (
            f"{label}: {reason or 'to be judged by a reviewer'}"
            if en
            else f"{label}：{reason or '需由审核人员判断'}"
        )
    out["explanation"] = text
    if remedy is not None and status in ("unmet", "unknown"):
        out["remedy"] = remedy
    if interpretation:
        out["interpretation"] = interpretation
    return out


_TEN_PLACES = Decimal("1e-10")


def _jsonable(v: Any) -> Any:
    if isinstance(v, Decimal):
        text = format(v, "f")
        point = text.find(".")
        if point >= 0 and len(text) - point > 11:
            # a 40-digit quotient (more than ten places): ten places say all a person needs
            return format(v.quantize(_TEN_PLACES).normalize(), "f")
        return text
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    return v


# ------------------------------------------------------------------ the engine


class Engine:
    """Loads the rule pack, compiles it per parameter epoch, evaluates profiles. Thread-safe."""

    CACHE_SIZE = 32

    def __init__(self, rules_dir: Path | str | None = None, backend: str | None = None) -> None:
        self.rules_dir = (
            Path(rules_dir) if rules_dir else Path(os.environ.get("HUIQI_RULES_DIR", DEFAULT_RULES_DIR))
        )
        self.backend_name = backend or os.environ.get("HUIQI_BACKEND", "durable")
        self.backend = get_backend(self.backend_name)
        self.pack: Pack = load_pack(self.rules_dir)
        self._compiled: OrderedDict[tuple, CompiledPack] = OrderedDict()
        self._by_day: dict[dt.date, CompiledPack] = {}  # the same model serves every day of an epoch
        self._lock = threading.Lock()

    @property
    def version(self) -> str:
        return self.pack.version

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
        key = compile_key(self.pack, as_of, overrides)
        with self._lock:
            hit = self._compiled.get(key)
            if hit is not None:
                self._compiled.move_to_end(key)
                return hit
        cp = compile_pack(self.pack, as_of, overrides)
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
        new_pack = load_pack(Path(rules_dir) if rules_dir else self.rules_dir)
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

    # -------------------------------------------------------------- evaluation

    def evaluate(
        self,
        profile: Profile | dict,
        as_of: dt.date | str | None = None,
        measures: list[str] | None = None,
        lang: str = "zh",
        overrides: dict[str, Any] | None = None,
        detail: str = "full",
    ) -> dict[str, Any]:
        """``detail="compact"`` keeps only the criteria that are not met, without quotes (bulk screening)."""
        if not isinstance(profile, Profile):
            profile = Profile.model_validate(profile)
        if as_of is None:
            as_of = dt.date.today()
        elif isinstance(as_of, str):
            as_of = dt.date.fromisoformat(as_of)
        cp = self.compiled(as_of, overrides)
        unknown = [m for m in measures or () if m not in cp.measures]
        if unknown:
            raise UnknownMeasure(unknown)
        wanted = self._with_dependencies(cp, measures) if measures else set(cp.measures)
        raw = self._run(cp, profile, as_of, wanted)
        asked = set(measures) if measures else wanted  # dependencies are evaluated, not reported
        results = [self._explain(cp, r, lang, detail) for r in raw if r["measure_id"] in asked]
        _mark_stacking(cp, results)
        return {
            "credit_code": profile.credit_code,
            "name": profile.name,
            "as_of": as_of.isoformat(),
            "rule_pack_version": cp.version,
            "backend": self.backend.name,
            "lang": lang,
            "results": results,
            "missing_facts": rank_missing(results, lang),
        }

    def _with_dependencies(self, cp: CompiledPack, measures: list[str]) -> set[str]:
        wanted = set(measures)
        frontier = list(measures)
        while frontier:
            mid = frontier.pop()
            for leaf in cp.measures[mid].leaves:
                if leaf.spec is not None and leaf.spec.path.startswith("measure."):
                    dep = leaf.spec.path.split(".")[1]
                    if dep not in wanted:
                        wanted.add(dep)
                        frontier.append(dep)
        return wanted

    def statuses(
        self, cp: CompiledPack, profile: Profile, as_of: dt.date, wanted: set[str] | None = None
    ) -> list[dict]:
        """The verdicts without explanations (for property tests and bulk comparisons)."""
        return self._run(cp, profile, as_of, wanted or set(cp.measures))

    def _run(self, cp: CompiledPack, profile: Profile, as_of: dt.date, wanted: set[str]) -> list[dict]:
        plan = _day_plan(cp, as_of, wanted)
        ctx = F.Context(profile, as_of, pack_params=cp.pack_params)
        extra = ctx.extra
        project_ctxs: list[tuple[str, F.Context]] | None = None
        results: list[dict] = []
        for cm, reason in plan.not_applicable:
            results.append(_not_applicable(cm, reason))
            if cm.measure.subject == "enterprise":
                extra[cm.outcome_path] = F.Fact("not_applicable")
        run = self.backend.run
        for group, in_force in plan.steps:
            if group.subject == "enterprise":
                contexts = [("e", ctx)]
            else:
                if project_ctxs is None:
                    project_ctxs = [(f"p{i}", ctx.for_project(p)) for i, p in enumerate(profile.projects)]
                contexts = project_ctxs
                if not contexts:
                    for cm in in_force:
                        results.append(_not_applicable(cm, "no_subject"))
                    continue
            subjects = []
            for key, c in contexts:
                for mid in group.scored:
                    c.extra.update(compute_scores(c, cp.measures[mid]))
                # a measure of this ruleset that was not asked for may depend on one that was not
                # evaluated: that fact is unknown (facts.NOT_SUPPLIED) and its verdict not reported
                get = c.get
                subjects.append((key, {path: get(path) for path in group.fact_paths}))
            fired = run(group, subjects)
            for (key, c), (_, facts) in zip(contexts, subjects, strict=True):
                hits = fired[key]
                for cm in in_force:
                    r = _judge(cm, hits, facts)
                    r["_ctx"] = c
                    if group.subject == "project":
                        proj = c.project
                        r["subject"] = {"kind": "project", "id": proj.id, "name": proj.name}
                    else:
                        r["subject"] = {"kind": "enterprise"}
                        extra[cm.outcome_path] = outcome_fact(cm, r)
                    results.append(r)
        order = plan.order
        results.sort(key=lambda r: order[r["measure_id"]])
        day = as_of.isoformat()
        version = cp.version
        for r in results:
            r["as_of"] = day
            r["rule_pack_version"] = version
        return results

    def _explain(self, cp: CompiledPack, r: dict, lang: str, detail: str = "full") -> dict:
        cm = cp.measures[r["measure_id"]]
        m = cm.measure
        if detail == "compact" and r["outcome"] != "not_applicable":
            return _explain_compact(cm, r, lang)
        head = cm.heads.get(lang)
        if head is None:
            head = cm.heads[lang] = {
                "title": m.title.get(lang),
                "status": m.status,
                "source": {"document": m.source.document, "clause": m.source.clause, "quote": m.source.quote},
            }
        out: dict[str, Any] = {
            "measure_id": m.id,
            "title": head["title"],
            "subject": r["subject"],
            "outcome": r["outcome"],
            "outcome_label": pick(OUTCOMES[r["outcome"]], lang),
            "status": head["status"],
            "source": head["source"].copy(),
            "as_of": r["as_of"],
            "rule_pack_version": r["rule_pack_version"],
        }
        if r["outcome"] == "not_applicable":
            out["criteria"] = []
            out["missing_facts"] = []
            out["benefit"] = None
            reason = r["reason"]
            out["reason"] = reason
            out["explanation"] = pick(NOT_APPLICABLE_REASONS[reason], lang)
            return out
        facts: dict[str, F.Fact] = r["facts"]
        statuses: dict[str, str] = r["statuses"]
        decisive, moot = decisive_nodes(cm, statuses)
        criteria: list[dict] = []
        unmet: list[str] = []
        for node, leaf, parent, depth in _tree(cm):
            node_id = node.id
            status = statuses[node_id]
            if leaf is None:
                row = _group_row_cached(cm, node, parent, depth, status, lang).copy()
            else:
                row = explain_leaf(leaf, status, facts, lang)
            row["decisive"] = node_id in decisive
            row["moot"] = node_id in moot
            if status == "unmet" and row["decisive"] and (leaf is not None or node.kind == "not"):
                unmet.append(row["label"])
            criteria.append(row)
        missing = decisive_missing(cm, statuses, facts) if r["outcome"] == "undetermined" else ()
        out["criteria"] = criteria
        out["missing_facts"] = [{"path": p, "label": path_label(p, lang)} for p in missing]
        out["benefit"] = (
            _benefit(cm, r["_ctx"], lang) if r["outcome"] in ("eligible", "needs_review") else None
        )
        out["explanation"] = _summary(r["outcome"], unmet, out["missing_facts"], lang)
        if m.scores:
            out["scores"] = _scores(cm, r, lang)
        return out


def _scores(cm: CompiledMeasure, r: dict, lang: str) -> dict[str, Any]:
    facts: dict[str, F.Fact] = r["facts"]
    ctx: F.Context = r["_ctx"]
    return {
        s.id: {
            "label": s.label.get(lang),
            "total": _jsonable(facts.get(F.score_fact_path(s.id), F.Fact()).value),
            "parts": {
                p.id: {
                    "label": p.label.get(lang),
                    "points": _jsonable(ctx.get(f"{F.score_fact_path(s.id)}.{p.id}").value),
                }
                for p in s.parts
            },
            "formula": ctx.get(F.score_fact_path(s.id)).formula_text(),
        }
        for s in cm.measure.scores
    }


_COMPACT_BENEFIT = ("kind", "amount", "tier", "unit", "rate", "cap")


def _explain_compact(cm: CompiledMeasure, r: dict, lang: str) -> dict:
    """Bulk screening's shape: what a reviewer needs per row, a tenth of the size — only the
    criteria that are not met (and ``not`` groups not met), as id, status, explanation and the
    decisive and moot flags; missing facts as paths; the benefit's
    figures; no quotes, titles or labels (as_of and the rule pack version stand once on the
    evaluation that holds these results)."""
    facts: dict[str, F.Fact] = r["facts"]
    statuses: dict[str, str] = r["statuses"]
    outcome = r["outcome"]
    decisive, moot = decisive_nodes(cm, statuses)
    criteria = []
    unmet = []
    for node, cl, parent, depth in _tree(cm):
        node_id = node.id
        status = statuses[node_id]
        if status == "met" or (cl is None and node.kind != "not"):
            continue
        if cl is not None:
            row = explain_leaf(cl, status, facts, lang, full=False)
        else:  # a ``not`` that is not met: its failure is named by it, not by the criterion inside
            row = _group_row_cached(cm, node, parent, depth, status, lang)
        decides = node_id in decisive
        out_row = {
            "id": node_id,
            "status": status,
            "explanation": row["explanation"],
            "decisive": decides,
            "moot": node_id in moot,
        }
        if cl is None:
            out_row["kind"] = "not"  # the rows of a compact result are criteria, but for these
        criteria.append(out_row)
        if status == "unmet" and decides:
            unmet.append(row["label"])
    missing = decisive_missing(cm, statuses, facts) if outcome == "undetermined" else ()
    benefit = None
    if outcome in ("eligible", "needs_review"):
        full = _benefit(cm, r["_ctx"], lang)
        benefit = {k: v for k, v in full.items() if k in _COMPACT_BENEFIT}
    out: dict[str, Any] = {
        "measure_id": cm.measure.id,
        "subject": r["subject"],
        "outcome": outcome,
        "criteria": criteria,
        "missing_facts": list(missing),
        "benefit": benefit,
        "explanation": _summary(outcome, unmet, [{"label": path_label(p, lang)} for p in missing], lang),
    }
    if cm.measure.scores:
        out["scores"] = _scores(cm, r, lang)
    return out


class UnknownMeasure(KeyError):
    def __init__(self, ids: list[str]):
        self.ids = ids
        super().__init__(", ".join(ids))


def _not_applicable(cm: CompiledMeasure, reason: str) -> dict:
    """``reason``: window (not in force), no_parameter (no value in force), no_subject (no project)."""
    subject = (
        {"kind": cm.measure.subject}
        if cm.measure.subject == "enterprise"
        else {"kind": "project", "id": None}
    )
    return {"measure_id": cm.id, "subject": subject, "outcome": "not_applicable", "reason": reason}


def decisive_nodes(cm: CompiledMeasure, statuses: dict[str, str]) -> tuple[frozenset[str], frozenset[str]]:
    """(the decisive nodes, the moot nodes) of one verdict.

    **Decisive**: the nodes whose status is a reason for the outcome — the top, and below a decisive
    group the children whose status made the group's: in an all-of group that failed, its unmet
    criteria; in an any-of group that is met, the alternatives met (an unmet alternative there
    decides nothing); in a group met, unmet, unknown or awaiting review as a whole, the children
    alike. Under a ``not``, the child with the opposite status.

    **Moot**: the nodes that cannot help the measure be met, because a group above them already has
    the status it needs through another child — the other alternatives of an any-of
    group that is met (under a ``not``, of an all-of group that failed, which is what the ``not``
    needs). An unmet alternative of an any-of group that is still unknown is not moot: meeting it
    would decide the measure."""
    key = tuple(statuses.values())  # the generated judge writes every node, always in one order
    hit = cm.decisive.get(key)
    if hit is not None:
        return hit
    top = cm.measure.criteria.id
    decisive = {top}
    moot: set[str] = set()
    needs = {top: "met"}  # the status each node needs for the measure to be met
    for node_id, kind, children in reversed(_plan(cm)):  # parents before children
        status, target = statuses[node_id], needs[node_id]
        decides, is_moot = node_id in decisive, node_id in moot
        if kind == "not":
            want, child_target, reached = NEGATION.get(status, status), NEGATION[target], False
        else:
            want, child_target = status, target
            # one child with the status needed is enough: an any-of group to be met, an all-of
            # group to fail (under a ``not``)
            reached = (kind == "any") == (target == "met") and any(statuses[c] == target for c in children)
        for child in children:
            cs = statuses[child]
            needs[child] = child_target
            if decides and cs == want:
                decisive.add(child)
            if is_moot or (reached and cs != target):
                moot.add(child)
    if len(cm.decisive) >= _PLANS_PER_PACK:
        cm.decisive.clear()
    hit = cm.decisive[key] = (frozenset(decisive), frozenset(moot))
    return hit


def decisive_missing(
    cm: CompiledMeasure, statuses: dict[str, str], facts: dict[str, F.Fact]
) -> tuple[str, ...]:
    """The missing facts whose absence leaves the outcome undetermined: those under unknown nodes
    all the way from the top. An unknown criterion in an any-of group already met, or in an all-of
    group already failed, decides nothing and is not asked for."""
    leaf_by_id = cm.leaf_by_id
    out: dict[str, None] = {}
    # depth first, in reading order (a loop, not a recursive closure: that would be a reference
    # cycle holding every fact of the evaluation until the cyclic garbage collector ran)
    stack = [cm.measure.criteria]
    while stack:
        node = stack.pop()
        if statuses[node.id] != "unknown":
            continue
        if isinstance(node, Group):
            stack.extend(reversed(node.children))
            continue
        cl = leaf_by_id[node.id]
        for spec in (cl.spec, cl.by):
            if spec is not None:
                for m in facts[spec.path].missing:
                    out.setdefault(m)
    return tuple(out)


def outcome_fact(cm: CompiledMeasure, r: dict) -> F.Fact:
    """A measure's outcome as a fact for the measures that depend on it. Undetermined passes its
    missing facts on (the dependant is undetermined too, naming them); needs-review passes the
    judgment on to a person; the other outcomes are known values."""
    path = F.measure_fact_path(cm.id)
    outcome = r["outcome"]
    if outcome == "undetermined":
        return F.Fact(missing=decisive_missing(cm, r["statuses"], r["facts"]) or (path,))
    if outcome == "needs_review":
        return F.Fact(undefined=f"所依据的“{cm.measure.title.zh}”需人工审核")
    return F.Fact(outcome, inputs={path: outcome})


class _DayPlan:
    """What an evaluation on one day does, worked out once per compiled pack, day and measures
    asked for: the measures not applicable and why, the rulesets to run in dependency order with
    their measures in force, and the order results are reported in."""

    __slots__ = ("not_applicable", "steps", "order")

    def __init__(self, cp: CompiledPack, as_of: dt.date, wanted: frozenset[str]) -> None:
        self.not_applicable: list[tuple[CompiledMeasure, str]] = []
        for mid in sorted(wanted):
            cm = cp.measures[mid]
            if not cm.in_force(as_of):
                reason = "no_parameter" if cm.measure.effective.contains(as_of) else "window"
                self.not_applicable.append((cm, reason))
        self.steps: list[tuple[Any, list[CompiledMeasure]]] = []
        for stage in range(len(cp.stages)):
            for group in cp.groups:
                if group.stage != stage or not wanted.intersection(group.measure_ids):
                    continue
                in_force = [
                    cp.measures[mid]
                    for mid in group.measure_ids
                    if mid in wanted and cp.measures[mid].in_force(as_of)
                ]
                if in_force:
                    self.steps.append((group, in_force))
        ranked = sorted(cp.measures, key=lambda m: (cp.measures[m].measure.issuer != "national", m))
        self.order = {mid: i for i, mid in enumerate(ranked)}


_PLANS_PER_PACK = 4096


def _day_plan(cp: CompiledPack, as_of: dt.date, wanted: set[str]) -> _DayPlan:
    key = (as_of, frozenset(wanted))
    plan = cp.day_plans.get(key)
    if plan is None:
        if len(cp.day_plans) >= _PLANS_PER_PACK:
            cp.day_plans.clear()
        plan = cp.day_plans[key] = _DayPlan(cp, as_of, key[1])
    return plan


def _plan(cm: CompiledMeasure) -> list[tuple[str, str, tuple[str, ...]]]:
    """The criteria tree as a flat list, children before parents: (id, kind, child ids)."""
    if cm.plan is None:
        plan: list[tuple[str, str, tuple[str, ...]]] = []

        def visit(node: Any) -> None:
            if isinstance(node, Group):
                for c in node.children:
                    visit(c)
                plan.append((node.id, node.kind, tuple(c.id for c in node.children)))

        visit(cm.measure.criteria)
        cm.plan = plan
    return cm.plan


def _judge(cm: CompiledMeasure, fired: set[str], facts: dict[str, F.Fact]) -> dict:
    judge = cm.judge
    if judge is None:
        judge = cm.judge = _judge_code(cm)
    statuses, top = judge(fired, facts)
    return {"measure_id": cm.id, "outcome": OUTCOME_OF_STATUS[top], "statuses": statuses, "facts": facts}


_COMBINE = {
    # the contract's three-valued combination (see ``combine``), written out for generated code
    "all": '"unmet" if "unmet" in {a} else "unknown" if "unknown" in {a} else '
    '"manual_review" if "manual_review" in {a} else "met"',
    "any": '"met" if "met" in {a} else "unknown" if "unknown" in {a} else '
    '"manual_review" if "manual_review" in {a} else "unmet"',
    "not": "NEGATION.get({a}[0], {a}[0])",
}


def _judge_code(cm: CompiledMeasure) -> Any:
    """A measure's criteria tree as one generated function of (rules fired, facts) → (status of
    every node, status of the top): the same verdicts as ``leaf_status`` and ``combine`` applied
    node by node, without walking the tree for every profile."""
    lines = ["def judge(fired, facts):"]
    names: dict[str, str] = {}
    env: dict[str, Any] = {"leaf_status": leaf_status, "NEGATION": NEGATION}
    for i, cl in enumerate(cm.leaves):
        var = names[cl.node.id] = f"s{i}"
        env[f"L{i}"] = cl
        if cl.manual:
            lines.append(f"    {var} = 'manual_review'")
            continue
        lines += [
            f"    if {cl.missing_name!r} in fired:",
            f"        {var} = leaf_status(L{i}, fired, facts)",
            f"    elif {cl.unmet_name!r} in fired:",
            f"        {var} = 'unmet'",
            "    else:",
            f"        {var} = 'met'",
        ]
    top = names.get(cm.measure.criteria.id, "'met'")  # a lone criterion at the top decides alone
    for j, (node_id, kind, children) in enumerate(_plan(cm)):
        var = names[node_id] = f"g{j}"
        args = "(" + "".join(names[c] + ", " for c in children) + ")"
        lines.append(f"    {var} = " + _COMBINE[kind].format(a=args))
        top = var
    body = ", ".join(f"{node_id!r}: {var}" for node_id, var in names.items())
    lines.append(f"    return {{{body}}}, {top}")
    exec(compile("\n".join(lines), f"<judge {cm.id}>", "exec"), env)  # noqa: S102 - our own code
    return env["judge"]


def _benefit(cm: CompiledMeasure, ctx: F.Context, lang: str) -> dict[str, Any]:
    b = cm.measure.benefit
    out: dict[str, Any] = {
        "kind": b.kind,
        "description": b.description.get(lang),
        "unit": b.unit.value if b.unit else None,
    }
    provisional = False

    def param(name: str) -> Any:
        nonlocal provisional
        if cm.param_status.get(name) == "provisional":
            provisional = True
        return cm.params.get(name)

    if b.tiers:
        for t in b.tiers:
            f = ctx.get(t.fact)
            if f.value is None:
                out["tier"] = None
                out["tier_note"] = ("缺少" if lang != "en" else "missing: ") + "、".join(
                    path_label(x, lang) for x in f.missing
                )
                break
            if f.value == t.equals:
                out["tier"] = t.tier
                out["tier_label"] = t.label.get(lang)
                if t.param:
                    out["amount"] = _jsonable(param(t.param))
                break
    if b.param and not b.tiers:
        value = param(b.param)
        if b.base_fact:
            base = ctx.get(b.base_fact)
            out["rate"] = _jsonable(value)
            if base.value is not None and value is not None:
                out["base"] = _jsonable(base.value)
                out["amount"] = _jsonable(Decimal(base.value) * value)
        elif b.kind in ("interest_subsidy", "status"):
            out["rate"] = _jsonable(value)
        else:
            out["amount"] = _jsonable(value)
    if b.cap_param:
        out["cap"] = _jsonable(param(b.cap_param))
    if (
        "amount" in out
        and out["amount"] is not None
        and out.get("cap") is not None
        and Decimal(out["amount"]) > Decimal(out["cap"])
    ):
        out["amount"] = out["cap"]
    out["provisional"] = provisional
    if "amount" in out and out["amount"] is not None:
        out["amount_display"] = show(Decimal(out["amount"]), out["unit"], lang)
    return out


def _mark_stacking(cp: CompiledPack, results: list[dict]) -> None:
    """Measures that cannot be stacked (``excludes``, either way round) and both granted (eligible
    or awaiting review) to the same subject."""
    granted = ("eligible", "needs_review")
    eligible = {(r["measure_id"], str(r["subject"].get("id"))) for r in results if r["outcome"] in granted}
    for r in results:
        others = cp.exclusive_with.get(r["measure_id"], ())
        if r["outcome"] not in granted or not others:
            r["not_stackable_with"] = []
            continue
        sid = str(r["subject"].get("id"))
        r["not_stackable_with"] = [mid for mid in others if (mid, sid) in eligible]


def rank_missing(results: list[dict], lang: str) -> list[dict]:
    """Missing facts, the ones that decide the most outcomes first."""
    counts: Counter[str] = Counter()
    decides: dict[str, list[str]] = {}
    for r in results:
        if r["outcome"] != "undetermined":
            continue
        for mf in r["missing_facts"]:
            path = mf if isinstance(mf, str) else mf["path"]  # compact results list bare paths
            counts[path] += 1
            decides.setdefault(path, []).append(r["measure_id"])
    return [
        {"path": p, "label": path_label(p, lang), "decides": n, "measures": sorted(set(decides[p]))}
        for p, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def python_reference(cp: CompiledPack, leaf: CompiledLeaf, facts: dict[str, F.Fact]) -> str | None:
    """The plain-Python verdict of one leaf, for tests that compare backends."""
    return leaf_fires(leaf, facts)


__all__ = ["Engine", "EngineError", "UnknownMeasure", "combine"]
