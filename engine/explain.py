"""Explanations, rendered on request from a verdict, the rule pack and a language.

The verdict (``engine/verdict.py``) says what was decided; this module says it to people: for
each criterion the actual and expected values in their units, the gap and what it would take
(where the enterprise can act), the arithmetic of derived facts (``formula``), the remedy, the
clause and its quoted text; the missing facts by name; the benefit in words; a one-line summary.
Every word comes from the message catalogue (``engine/vocabulary.py``) or the rule files.

Rendering reads the evaluation's facts (kept with it, or derived again from the stored input):
re-rendering a stored verdict with the same input and pack version gives the same words.

``Renderer`` owns the one cache of the engine's words: the parts of a criterion's row that do not
depend on the profile, per compiled pack, criterion and language.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, localcontext
from typing import Any, Literal

from . import scores as S
from .compile import CompiledLeaf, CompiledMeasure, CompiledPack
from .facts import FORMULA, SPECS, Env, Formula, Operand, Reason, Unknown, path_label, score_fact_path
from .schema import COMPARISON_OPS, Group, Op
from .verdict import Evaluation, Verdict, gap_of, verdict_json
from .vocabulary import (
    ENUM_LABELS,
    NOT_APPLICABLE_REASONS,
    OP_WORDS,
    OUTCOMES,
    STATUSES,
    join,
    money,
    pct,
    pick,
    show,
    text,
)

Detail = Literal["verdict", "full", "compact"]


@dataclass(frozen=True, slots=True)
class Options:
    """What an answer holds: ``verdict`` (the default: each result's verdict and its one-line
    summary), ``full`` (the full explanation) or ``compact`` (bulk screening's rows: the criteria
    not met, with their explanation); and the language of its words."""

    detail: Detail = "verdict"
    lang: Literal["zh", "en"] = "zh"


VERDICT = Options()
FULL = Options("full")

_TEN_PLACES = Decimal("1e-10")
_CENT = Decimal("0.01")


def shown_json(v: Any) -> Any:
    """A value as a full explanation writes it: numbers that are not whole as decimal strings (a
    40-digit quotient to ten places), whole numbers as they are, dates ISO."""
    if isinstance(v, Decimal):
        s = format(v, "f")
        point = s.find(".")
        if point >= 0 and len(s) - point > 11:
            return format(v.quantize(_TEN_PLACES).normalize(), "f")
        return s
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if isinstance(v, list):
        return [shown_json(x) for x in v]
    return v


# ------------------------------------------------------------------ facts and formulas in words


def reason_text(reason: Reason, lang: str, cp: CompiledPack | None = None) -> str:
    args = dict(reason.args)
    if "path" in args:
        args["label"] = path_label(args.pop("path"), lang)
    if "measure" in args:
        mid = args.pop("measure")
        m = cp.pack.measures.get(mid) if cp is not None else None
        args["title"] = m.title.get(lang) if m is not None else mid
    return text(f"reason.{reason.code}", lang, **args)


def _label(path: str | None, lang: str) -> str:
    spec = SPECS.get(path or "")
    return spec.label(lang) if spec is not None else (path or "")


def formula_text(f: Formula | None, lang: str, cp: CompiledPack | None = None) -> str | None:
    """A structured formula worded in ``lang``."""
    if f is None:
        return None
    a = f.args
    op = f.op
    if op == "ratio":
        num, den = a["num"], a["den"]
        return text(
            "formula.ratio",
            lang,
            num_label=_label(num.path, lang),
            num=num.value,
            den_label=_label(den.path, lang),
            den=den.value,
            result=pct(a["result"]),
        )
    if op == "sum":
        return text("formula.sum", lang, terms=" + ".join(map(money, a["terms"])), result=money(a["result"]))
    if op in ("days_between", "full_years", "valid_until", "issued_within", "within_5y", "year_in"):
        return text(f"formula.{op}", lang, **a)
    if op == "size_class":
        industry = a["industry"].get(lang)
        both = text("formula.size_and", lang)
        bounds = both.join(
            text(
                "formula.size_bound",
                lang,
                label=_size_indicator(path, lang),
                value=_in_unit(value, path, lang),
                bound=_in_unit(bound, path, lang),
            )
            for path, value, bound in a["bounds"]
        )
        size = pick(ENUM_LABELS[a["size"]], lang)
        line = (
            text("formula.size_class", lang, industry=industry, bounds=bounds, size=size)
            if a["bounds"]
            else text("formula.size_micro", lang, industry=industry)
        )
        if a.get("next"):
            up, needs = a["next"]
            needed = both.join(
                text(
                    "formula.size_needs",
                    lang,
                    label=_size_indicator(path, lang),
                    bound=_in_unit(bound, path, lang),
                )
                for path, bound in needs
            )
            line += text("formula.size_next", lang, size=pick(ENUM_LABELS[up], lang), bounds=needed)
        return line
    if op == "points":
        unit = SPECS[a["fact"]].unit if a["fact"] in SPECS else None
        return text(
            "formula.points",
            lang,
            label=a["label"].get(lang),
            value=show(a["value"], unit, lang),
            points=a["points"],
        )
    if op == "points_undefined":
        return text(
            "formula.points_undefined",
            lang,
            label=a["label"].get(lang),
            reason=reason_text(a["reason"], lang, cp),
        )
    sep = text("formula.parts_sep", lang)
    parts = sep.join(formula_text(p, lang, cp) or "" for p in a.get("parts", ()))
    if op == "best_of":
        return text("formula.best_of", lang, parts=parts)
    if op == "score_total":
        return text("formula.score_total", lang, parts=parts, total=a["total"])
    if op == "score_partial":
        missing = join((path_label(m, lang) for m in a["missing"]), lang)
        return text(
            "formula.score_partial", lang, parts=parts, missing=missing, total=a["total"], high=a["high"]
        )
    raise ValueError(f"no wording for formula {op!r}")


_SIZE_INDICATOR_WORDS = {
    # the indicators as 国统字〔2017〕213号 names them
    "last_year.employees": ("从业人员", "employees"),
    "last_year.sales_revenue": ("营业收入", "operating revenue"),
    "last_year.total_assets": ("资产总额", "total assets"),
}


def _size_indicator(path: str, lang: str) -> str:
    return pick(_SIZE_INDICATOR_WORDS[path], lang)


def _in_unit(value: Any, path: str, lang: str) -> str:
    return show(value if isinstance(value, int) else Decimal(value), SPECS[path].unit, lang)


class Facts:
    """The facts of one subject as explanations read them: values, and formulas built when asked
    (scores' formulas come from the measure's scores)."""

    __slots__ = ("env", "cp", "_score_formulas")

    def __init__(self, env: Env, cp: CompiledPack) -> None:
        self.env = env
        self.cp = cp
        self._score_formulas: dict[str, Formula] = {}

    def value(self, path: str) -> Any:
        return self.env.get(path)

    def formula(self, path: str, cm: CompiledMeasure) -> Formula | None:
        if path.startswith("score."):
            if not self._score_formulas and cm.measure.scores:
                self._score_formulas = S.formulas(self.env, cm.measure.scores, cm.params, cm.score_check)
            return self._score_formulas.get(path)
        if path in FORMULA:
            return self.env.formula(path)
        return None


# ------------------------------------------------------------------ the renderer


class Renderer:
    """Words for verdicts. Thread-safe: its caches hold only immutable values, replaced whole.

    The engine's one cache of words: the fixed parts of a criterion's row per compiled pack,
    criterion and language, and the summaries by what decides them. A compiled measure is part of
    each key and checked on a hit, so a pack compiled anew never reads another's words."""

    CACHE_SIZE = 20_000

    def __init__(self) -> None:
        self._static: OrderedDict[tuple, tuple] = OrderedDict()
        self._summaries: dict[tuple, tuple] = {}

    # ---- the answer

    def answer(self, evaluation: Evaluation, options: Options) -> dict[str, Any]:
        lang = options.lang
        cp: CompiledPack = evaluation.compiled
        if options.detail == "verdict":
            results = [
                verdict_json(v, cp.measures[v.measure_id], self.summary(v, cp, lang))
                for v in evaluation.verdicts
            ]
        else:
            results = [self.result(v, evaluation, options) for v in evaluation.verdicts]
        return {
            "credit_code": evaluation.credit_code,
            "name": evaluation.name,
            "as_of": evaluation.as_of.isoformat(),
            "rule_pack_version": evaluation.rule_pack_version,
            "backend": evaluation.backend,
            "lang": lang,
            "results": results,
            "missing_facts": [
                {
                    "path": m.path,
                    "label": path_label(m.path, lang),
                    "decides": m.decides,
                    "measures": list(m.measures),
                }
                for m in evaluation.missing_facts
            ],
        }

    def summary(self, v: Verdict, cp: CompiledPack, lang: str) -> str:
        """The one line of a result: its outcome and the decisive failures or missing facts by name
        (kept by what decides it: the measure, its statuses, its missing facts and the language)."""
        if v.outcome == "not_applicable":
            return pick(NOT_APPLICABLE_REASONS[v.reason or "window"], lang)
        cm = cp.measures[v.measure_id]
        key = (cm, v.statuses, v.missing_facts, lang)
        hit = self._summaries.get(key)
        if hit is not None and hit[0] is cm:
            return hit[1]
        unmet = []
        if v.outcome == "ineligible":
            for row, status in zip(cm.tree, v.statuses, strict=True):
                if (
                    status == "unmet"
                    and row.node.id in v.decisive
                    and (row.leaf is not None or row.node.kind == "not")
                ):
                    unmet.append(row.node.label.get(lang))
        line = _summary(v.outcome, unmet, [path_label(p, lang) for p in v.missing_facts], lang)
        if len(self._summaries) >= self.CACHE_SIZE:
            self._summaries.clear()
        self._summaries[key] = (cm, line)
        return line

    def reasons(self, v: Verdict, cp: CompiledPack, lang: str) -> str:
        """Why, in words, from the verdict alone (a stored screening result: no facts to quote):
        the decisive failures with what each requires, the missing facts, what a person must
        judge, or what an eligible result is expected to give. Kept like the summaries."""
        if v.outcome == "not_applicable":
            return pick(NOT_APPLICABLE_REASONS[v.reason or "window"], lang)
        cm = cp.measures[v.measure_id]
        b = v.benefit
        key = (
            "reasons",
            cm,
            v.outcome,
            v.statuses,
            v.missing_facts,
            b.tier if b else None,
            b.amount if b else None,
            lang,
        )
        hit = self._summaries.get(key)
        if hit is not None and hit[0] is cm:
            return hit[1]
        parts: list[str] = []
        if v.outcome == "ineligible":
            for row, status in zip(cm.tree, v.statuses, strict=True):
                if (
                    status == "unmet"
                    and row.node.id in v.decisive
                    and (row.leaf is not None or row.node.kind == "not")
                ):
                    parts.append(self._requirement(cm, row, lang))
            line = "；".join(parts) if lang != "en" else "; ".join(parts)
        elif v.outcome == "undetermined":
            line = text(
                "summary.undetermined", lang, names=join((path_label(p, lang) for p in v.missing_facts), lang)
            )
        elif v.outcome == "needs_review":
            for row, status in zip(cm.tree, v.statuses, strict=True):
                if status == "manual_review" and row.leaf is not None:
                    parts.append(row.node.label.get(lang))
            line = "；".join(parts) if lang != "en" else "; ".join(parts)
        else:
            figures = []
            if b is not None and b.tier is not None:
                figures += [t.label.get(lang) for t in cm.measure.benefit.tiers or () if t.tier == b.tier]
            if b is not None and b.amount is not None:
                figures.append(show(b.amount, b.unit or "wan_yuan", lang))
            line = text("reasons.benefit", lang, figures=" ".join(figures)) if figures else ""
        if len(self._summaries) >= self.CACHE_SIZE:
            self._summaries.clear()
        self._summaries[key] = (cm, line)
        return line

    def _requirement(self, cm: CompiledMeasure, row: Any, lang: str) -> str:
        """A failed criterion and what it requires (its threshold in force, where one is fixed)."""
        label = row.node.label.get(lang)
        if row.leaf is None:
            return label
        _template, label, _unit, word, _json, shown, *_ = self._leaf_static(cm, row.leaf, lang)
        expected = row.leaf.expected
        if expected is None or row.leaf.tiers is not None or isinstance(expected, bool):
            return label  # a yes/no criterion says it all; a tiered one needs the figures it depends on
        return text("reasons.unmet", lang, label=label, expected=shown)

    def result(self, v: Verdict, evaluation: Evaluation, options: Options) -> dict[str, Any]:
        cp: CompiledPack = evaluation.compiled
        cm = cp.measures[v.measure_id]
        lang = options.lang
        m = cm.measure
        if v.outcome == "not_applicable":
            return {
                **self._head(cm, v, lang),
                "criteria": [],
                "missing_facts": [],
                "benefit": None,
                "reason": v.reason,
                "explanation": pick(NOT_APPLICABLE_REASONS[v.reason or "window"], lang),
                "not_stackable_with": list(v.not_stackable_with),
            }
        facts = Facts(evaluation.envs[v.subject.id], cp)
        if options.detail == "compact":
            return self._compact(cm, v, facts, lang)
        criteria: list[dict] = []
        unmet: list[str] = []
        for row, status in zip(cm.tree, v.statuses, strict=True):
            node = row.node
            if row.leaf is None:
                out_row = _group_row(node, row.parent, row.depth, status, lang)
            else:
                out_row = self.leaf_row(cm, row.leaf, status, facts, lang)
            out_row["decisive"] = node.id in v.decisive
            out_row["moot"] = node.id in v.moot
            if status == "unmet" and out_row["decisive"] and (row.leaf is not None or node.kind == "not"):
                unmet.append(out_row["label"])
            criteria.append(out_row)
        missing = [{"path": p, "label": path_label(p, lang)} for p in v.missing_facts]
        out = {
            **self._head(cm, v, lang),
            "criteria": criteria,
            "missing_facts": missing,
            "benefit": self.benefit(cm, v, facts, lang) if v.benefit is not None else None,
            "explanation": _summary(v.outcome, unmet, [x["label"] for x in missing], lang),
        }
        if m.scores:
            out["scores"] = self.scores(cm, facts, lang)
        out["not_stackable_with"] = list(v.not_stackable_with)
        return out

    def _head(self, cm: CompiledMeasure, v: Verdict, lang: str) -> dict[str, Any]:
        m = cm.measure
        return {
            "measure_id": m.id,
            "title": m.title.get(lang),
            "subject": v.subject.to_json(),
            "outcome": v.outcome,
            "outcome_label": pick(OUTCOMES[v.outcome], lang),
            "status": m.status,
            "source": {"document": m.source.document, "clause": m.source.clause, "quote": m.source.quote},
            "as_of": v.as_of.isoformat(),
            "rule_pack_version": v.rule_pack_version,
        }

    # ---- criteria

    def _leaf_static(self, cm: CompiledMeasure, leaf: CompiledLeaf, lang: str) -> tuple:
        """What a criterion's row says whatever the profile: its fixed keys, label, unit, operator
        words and the expected value when it is not tiered (kept per pack, criterion, language)."""
        key = (id(cm), leaf.idx, lang)
        hit = self._static.get(key)
        if hit is not None and hit[0] is cm:
            return hit[1]
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
        word = pick(OP_WORDS[node.op.value], lang)
        expected = leaf.expected
        shown = (
            text("expected", lang, op=word, value=show(expected, unit, lang))
            if expected is not None
            else word
        )
        static = (
            template,
            template["label"],
            unit,
            word,
            shown_json(expected),
            shown,
            node.remedy.get(lang) if node.remedy is not None else None,
            node.interpretation,
            leaf.by.label(lang) if leaf.by is not None else None,
        )
        self._static[key] = (cm, static)
        if len(self._static) > self.CACHE_SIZE:
            self._static.popitem(last=False)
        return static

    def leaf_row(
        self, cm: CompiledMeasure, leaf: CompiledLeaf, status: str, facts: Facts, lang: str, full: bool = True
    ) -> dict:
        """One criterion's verdict for people."""
        node = leaf.node
        template, label, unit, word, expected_json, expected_display, remedy, interpretation, by_label = (
            self._leaf_static(cm, leaf, lang)
        )
        out = template.copy()
        out["status"] = status
        out["status_label"] = pick(STATUSES[status], lang)
        has_fact = node.fact is not None
        v = facts.value(node.fact) if has_fact else None
        actual = None if type(v) is Unknown else v
        expected = leaf.expected
        by = None
        if leaf.tiers is not None and leaf.by is not None:
            by = facts.value(leaf.by.path)
            if type(by) is not Unknown:
                expected = leaf.expected_for(by)
                out["band"] = text("band", lang, label=by_label, value=show(by, leaf.by.unit, lang))
            else:
                expected = None
            expected_json = shown_json(expected)
            expected_display = (
                text("expected", lang, op=word, value=show(expected, unit, lang))
                if expected is not None
                else word
            )
        out["actual"] = shown_json(actual)
        actual_display = out["actual_display"] = show(actual, unit, lang) if has_fact else None
        out["expected"] = expected_json
        out["expected_display"] = expected_display
        if status == "met":
            line = text("leaf.met", lang, label=label, actual=actual_display, expected=expected_display)
        elif status == "unmet":
            line = text("leaf.unmet", lang, label=label, actual=actual_display, expected=expected_display)
            if expected is not None and not isinstance(expected, list):
                gap = gap_of(node.op, unit, actual, expected)
                if gap is not None:
                    gap_display = _gap_text(node.op, unit, gap, lang)
                    out["gap"] = shown_json(gap)
                    out["gap_display"] = gap_display
                    line += text("leaf.then_gap", lang, gap=gap_display)
                    need = self._need(cm, leaf, facts, expected, lang) if has_fact else None
                    if need:
                        out["need"] = need
                        line += text("leaf.then_need", lang, need=need)
        elif status == "unknown":
            missing = list(v.missing if type(v) is Unknown else ())
            if by is not None and type(by) is Unknown:
                missing += by.missing
            out["missing_facts"] = list(dict.fromkeys(missing))
            names = join((path_label(m, lang) for m in out["missing_facts"]), lang)
            line = text("leaf.unknown", lang, label=label, names=names)
        else:
            reason = v.undefined if type(v) is Unknown and v.undefined else None
            line = text(
                "leaf.manual",
                lang,
                label=label,
                reason=reason_text(reason, lang, facts.cp) if reason else text("leaf.manual_reason", lang),
            )
        out["explanation"] = line
        if remedy is not None and status in ("unmet", "unknown"):
            out["remedy"] = remedy
        if interpretation:
            out["interpretation"] = interpretation
        if full and has_fact and actual is not None:
            formula = formula_text(facts.formula(node.fact, cm), lang, facts.cp)
            if formula:
                out["formula"] = formula
        return out

    def _need(
        self, cm: CompiledMeasure, leaf: CompiledLeaf, facts: Facts, expected: Decimal, lang: str
    ) -> str | None:
        """What it would take to meet an unmet ratio, where the enterprise can act on its numerator."""
        if leaf.node.op not in (Op.gt, Op.gte) or leaf.node.fact not in FORMULA:
            return None
        f = facts.formula(leaf.node.fact, cm)
        if f is None or f.op != "ratio":
            return None
        num, den = f.args["num"], f.args["den"]
        return _need_text(leaf.node.op, num, den, expected, lang)

    def _compact(self, cm: CompiledMeasure, v: Verdict, facts: Facts, lang: str) -> dict:
        """Bulk screening's shape: what a reviewer needs per row, a tenth of the size — only the
        criteria that are not met (and ``not`` groups not met), as id, status, explanation and the
        decisive and moot flags; missing facts as paths; the benefit's figures; no quotes, titles or
        labels (as_of and the rule pack version stand once on the evaluation holding these results)."""
        criteria = []
        unmet = []
        for row, status in zip(cm.tree, v.statuses, strict=True):
            node = row.node
            if status == "met" or (row.leaf is None and node.kind != "not"):
                continue
            if row.leaf is not None:
                r = self.leaf_row(cm, row.leaf, status, facts, lang, full=False)
            else:  # a ``not`` that is not met: its failure is named by it, not by the criterion inside
                r = _group_row(node, row.parent, row.depth, status, lang)
            decides = node.id in v.decisive
            item = {
                "id": node.id,
                "status": status,
                "explanation": r["explanation"],
                "decisive": decides,
                "moot": node.id in v.moot,
            }
            if row.leaf is None:
                item["kind"] = "not"
            criteria.append(item)
            if status == "unmet" and decides:
                unmet.append(r["label"])
        benefit = None
        if v.benefit is not None:
            full = self.benefit(cm, v, facts, lang)
            benefit = {k: x for k, x in full.items() if k in _COMPACT_BENEFIT}
        out: dict[str, Any] = {
            "measure_id": cm.id,
            "subject": v.subject.to_json(),
            "outcome": v.outcome,
            "criteria": criteria,
            "missing_facts": list(v.missing_facts),
            "benefit": benefit,
            "explanation": _summary(v.outcome, unmet, [path_label(p, lang) for p in v.missing_facts], lang),
        }
        if cm.measure.scores:
            out["scores"] = self.scores(cm, facts, lang)
        out["not_stackable_with"] = list(v.not_stackable_with)
        return out

    # ---- benefit and scores

    def benefit(self, cm: CompiledMeasure, v: Verdict, facts: Facts, lang: str) -> dict[str, Any]:
        b = cm.measure.benefit
        bv = v.benefit
        assert bv is not None
        out: dict[str, Any] = {"kind": b.kind, "description": b.description.get(lang), "unit": bv.unit}
        for key, value in benefit_figures(cm, facts.env)[0]:
            if key == "tier_missing":
                out["tier"] = None
                out["tier_note"] = text(
                    "benefit.tier_missing", lang, names=join((path_label(x, lang) for x in value), lang)
                )
            elif key == "tier":
                out["tier"] = value
                out["tier_label"] = next(t.label.get(lang) for t in b.tiers or () if t.tier == value)
            else:
                out[key] = shown_json(value)
        out["provisional"] = bv.provisional
        if out.get("amount") is not None:
            out["amount_display"] = show(Decimal(out["amount"]), out["unit"], lang)
        return out

    def scores(self, cm: CompiledMeasure, facts: Facts, lang: str) -> dict[str, Any]:
        out = {}
        for s in cm.measure.scores:
            path = score_fact_path(s.id)
            out[s.id] = {
                "label": s.label.get(lang),
                "total": shown_json(_value(facts.value(path))),
                "parts": {
                    p.id: {
                        "label": p.label.get(lang),
                        "points": shown_json(_value(facts.value(f"{path}.{p.id}"))),
                    }
                    for p in s.parts
                },
                "formula": formula_text(facts.formula(path, cm), lang, facts.cp),
            }
        return out


_COMPACT_BENEFIT = ("kind", "amount", "tier", "unit", "rate", "cap")


def _value(v: Any) -> Any:
    return None if type(v) is Unknown else v


def benefit_figures(cm: CompiledMeasure, env: Env) -> tuple[list[tuple[str, Any]], bool]:
    """The figures of a measure's benefit for one subject, in the order they are shown, and whether
    a provisional parameter went into them. ``tier_missing`` names the facts a tier needs."""
    b = cm.measure.benefit
    out: list[tuple[str, Any]] = []
    provisional = False

    def param(name: str) -> Any:
        nonlocal provisional
        if cm.param_status.get(name) == "provisional":
            provisional = True
        return cm.params.get(name)

    if b.tiers:
        for t in b.tiers:
            value = env.get(t.fact)
            if type(value) is Unknown:
                out.append(("tier_missing", value.missing))
                break
            if value == t.equals:
                out.append(("tier", t.tier))
                if t.param:
                    out.append(("amount", param(t.param)))
                break
    amount = None
    if b.param and not b.tiers:
        value = param(b.param)
        if b.base_fact:
            base = env.get(b.base_fact)
            out.append(("rate", value))
            if type(base) is not Unknown and value is not None:
                amount = Decimal(base) * value
                out += [("base", base), ("amount", amount)]
        elif b.kind in ("interest_subsidy", "status"):
            out.append(("rate", value))
        else:
            out.append(("amount", value))
    if b.cap_param:
        cap = param(b.cap_param)
        out.append(("cap", cap))
        given = dict(out).get("amount")
        if given is not None and cap is not None and Decimal(given) > Decimal(cap):
            out = [(k, cap if k == "amount" else x) for k, x in out]
    return out, provisional


def _summary(outcome: str, unmet: list[str], missing: list[str], lang: str) -> str:
    if outcome == "ineligible":
        return text("summary.ineligible", lang, names=join(unmet, lang))
    if outcome == "undetermined":
        return text("summary.undetermined", lang, names=join(missing, lang))
    if outcome == "eligible":
        # not "all criteria": an alternative of an any-of group may be unmet in an eligible result
        return text("summary.eligible", lang)
    return text("summary.needs_review", lang)


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
        "explanation": text("node.group", lang, label=label, status=word),
    }


def _gap_text(op: Op, unit: str, gap: Decimal, lang: str) -> str:
    """How far an unmet numeric criterion is, for people."""
    if unit == "ratio":
        points = (gap * 100).quantize(_CENT, rounding=ROUND_CEILING)
        line = text("gap.points", lang, points=f"{points.normalize():f}")
    else:
        line = text("gap.amount", lang, amount=show(gap, unit, lang))
    if op is Op.gt and gap == 0:
        return text("gap.exactly_gt", lang)
    if op is Op.lt and gap == 0:
        return text("gap.exactly_lt", lang)
    if op is Op.gt:
        return line + text("gap.must_exceed", lang)
    if op is Op.lt:
        return line + text("gap.must_be_below", lang)
    return line


def _need_text(op: Op, num: Operand, den: Operand, expected: Decimal, lang: str) -> str | None:
    num_spec = SPECS.get(num.path or "")
    if num_spec is None or not num_spec.changeable:
        return None
    with localcontext() as c:
        c.prec = 40
        required = Decimal(expected) * Decimal(den.value) - Decimal(num.value)
    if required <= 0:
        return None
    den_spec = SPECS.get(den.path or "")
    den_label = den_spec.label(lang) if den_spec else ("" if lang != "en" else "the denominator")
    if num_spec.unit == "people":
        n = math.ceil(required) + (1 if op is Op.gt and required == int(required) else 0)
        return text(
            "need.people",
            lang,
            den_label=den_label,
            den_shown=show(den.value, den_spec.unit if den_spec else None, lang),
            den=den.value,
            num_label=num_spec.label(lang),
            n=n,
        )
    amount = required.quantize(_CENT, rounding=ROUND_CEILING)
    return text(
        "need.amount",
        lang,
        den_label=den_label,
        den_shown=show(den.value, "wan_yuan", lang),
        den=den.value,
        num_label=num_spec.label(lang),
        amount_shown=show(amount, "wan_yuan", lang),
        amount=amount,
        more=text("need.or_more", lang) if op is Op.gt else "",
    )


__all__ = ["FULL", "VERDICT", "Options", "Renderer", "benefit_figures", "formula_text", "COMPARISON_OPS"]
