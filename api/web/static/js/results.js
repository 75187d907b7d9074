/* 惠企 huiqi — an evaluation result as a report: every measure, every criterion, the gap and the remedy. */
(function () {
  "use strict";
  const { t, el, outcomeBadge } = window.HQ;
  const ORDER = ["eligible", "needs_review", "undetermined", "ineligible", "not_applicable"];

  function subjectText(subject) {
    if (!subject || subject.kind !== "project") return "";
    return t("res.project", { id: subject.id, name: subject.name || "" }).trim();
  }

  function benefitBlock(b) {
    if (!b) return null;
    const parts = [b.description];
    if (b.amount_display) parts.push(t("res.amount") + " " + b.amount_display);
    if (b.tier_label) parts.push(t("res.tier") + " " + b.tier_label);
    return el("p", { class: "mb-2 benefit" },
      el("strong", {}, t("cat.benefit") + "："), parts.filter(Boolean).join("；"),
      b.provisional ? el("span", { class: "badge badge-provisional ms-2" }, t("cat.provisional")) : null);
  }

  function criteriaTable(criteria) {
    const rows = criteria.map((c) => {
      const depth = c.depth || 0;
      const isGroup = c.kind && c.kind !== "criterion";
      const label = el("div", { style: "padding-left:" + depth * 1.1 + "rem" },
        isGroup ? el("em", {}, t("cat.group_" + c.kind) + (c.label ? "：" + c.label : "")) : el("span", {}, c.label || c.id),
        c.clause ? el("span", { class: "badge text-bg-light border ms-1 clause" }, c.clause) : null,
        c.provisional ? el("span", { class: "badge badge-provisional ms-1" }, t("cat.provisional")) : null,
        c.quote && !isGroup ? el("details", { class: "small" }, el("summary", {}, t("cat.quote")), el("blockquote", { class: "mb-1" }, c.quote)) : null);
      // a criterion that cannot change the outcome (an alternative of an any-of group already met)
      // is said to be so, and no remedy is offered for it
      const moot = c.moot === true && c.status !== "met";
      return el("tr", { class: isGroup ? "table-light" : "", dataset: { criterion: c.id, status: c.status, decisive: String(c.decisive !== false), moot: String(c.moot === true) } },
        el("td", {}, label),
        el("td", { class: "status-" + c.status }, c.status_label || t("status." + c.status),
          moot ? el("div", { class: "small text-body-secondary not-decisive" }, t("res.not_decisive")) : null),
        el("td", {}, isGroup ? "" : c.actual_display || ""),
        el("td", {}, isGroup ? "" : c.expected_display || ""),
        el("td", { class: "gap" }, c.gap_display || c.need || ""),
        el("td", {}, c.remedy && c.status !== "met" && !moot ? el("span", { class: "remedy" }, c.remedy) : ""));
    });
    return el("div", { class: "table-responsive" },
      el("table", { class: "table table-sm criteria-table mb-2" },
        el("caption", { class: "visually-hidden" }, t("res.criteria")),
        el("thead", {}, el("tr", {},
          ["res.criterion", "res.status", "res.actual", "res.expected", "res.gap", "res.remedy"].map((k) => el("th", { scope: "col" }, t(k))))),
        el("tbody", {}, rows)));
  }

  function card(r) {
    const subject = subjectText(r.subject);
    const missing = (r.missing_facts || []).map((m) => m.label || m.path);
    return el("article", {
      class: "card result-card mb-3 outcome-" + r.outcome,
      dataset: { measure: r.measure_id, outcome: r.outcome, subject: r.subject && r.subject.id ? r.subject.id : "" },
      "aria-label": (r.title || r.measure_id) + " " + (r.outcome_label || ""),
    },
    el("div", { class: "card-header d-flex flex-wrap gap-2 align-items-center" },
      el("h3", { class: "h5 mb-0 me-auto" }, r.title || r.measure_id, subject ? el("small", { class: "text-body-secondary ms-2" }, subject) : null),
      outcomeBadge(r.outcome, r.outcome_label)),
    el("div", { class: "card-body" },
      r.explanation ? el("p", { class: "mb-2" }, r.explanation) : null,
      benefitBlock(r.benefit),
      r.not_stackable_with && r.not_stackable_with.length ? el("p", { class: "small text-body-secondary" }, t("res.not_stackable", { ids: r.not_stackable_with.join("、") })) : null,
      criteriaTable(r.criteria || []),
      missing.length ? el("p", { class: "mb-0 small missing" }, el("strong", {}, t("res.missing") + "："), missing.join("、")) : null));
  }

  /* into the page's #sc-result-meta, #sc-summary, #sc-missing and #sc-cards */
  function render(result, opts) {
    opts = opts || {};
    const counts = {};
    for (const r of result.results) counts[r.outcome] = (counts[r.outcome] || 0) + 1;
    const meta = document.getElementById("sc-result-meta");
    meta.replaceChildren(
      el("span", {}, (result.name || "") + " " + result.credit_code), " · ",
      el("span", {}, t("sc.as_of") + " " + result.as_of), " · ",
      el("span", {}, t("site.rule_pack") + " " + result.rule_pack_version),
      result.id ? el("span", {}, " · " + t("res.saved_as", { id: result.id })) : el("span", {}, " · " + t("res.not_saved")));
    document.getElementById("sc-summary").replaceChildren(el("div", { class: "d-flex flex-wrap gap-2", role: "list" },
      ORDER.map((o) => el("div", { class: "stat outcome-" + o, role: "listitem", dataset: { count: o } },
        el("div", { class: "num" }, String(counts[o] || 0)), el("div", { class: "small" }, t("outcome." + o))))));
    const missingBox = document.getElementById("sc-missing");
    missingBox.replaceChildren();
    if (result.missing_facts && result.missing_facts.length) {
      missingBox.append(el("div", { class: "alert alert-info mb-0", role: "note" },
        el("h3", { class: "h6" }, t("res.missing_title")),
        el("ol", { class: "mb-0 small" }, result.missing_facts.map((m) => el("li", {},
          opts.onMissing ? el("a", { href: "#", onclick: (e) => { e.preventDefault(); opts.onMissing(m.path); } }, m.label) : m.label,
          " — ", t("res.decides", { n: m.decides }))))));
    }
    const sorted = [...result.results].sort((a, b) => ORDER.indexOf(a.outcome) - ORDER.indexOf(b.outcome));
    document.getElementById("sc-cards").replaceChildren(...sorted.map(card));
  }

  window.HQResults = { render, card, ORDER };
})();
