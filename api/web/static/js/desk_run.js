/* 惠企 huiqi — one screening run: progress, results with filters, one application's explanation and
   review, charts (ECharts), the impact of a rule change, decisions, export. */
(function () {
  "use strict";
  const { t, el, api, problemText, oneLanguage, fmtTime, announce, outcomeBadge, config } = window.HQ;
  const { EP, DONE, FAILED, download, showProgress, follow, requireBureau } = window.HQDesk;
  const user = requireBureau();
  if (!user) return;
  const runId = config.run_id;
  const titles = Object.fromEntries(config.measures.map((m) => [m.id, m.title]));
  const OUTCOMES = ["eligible", "needs_review", "undetermined", "ineligible", "not_applicable"];
  const COLORS = { eligible: "#1a7f4b", needs_review: "#c98a00", undetermined: "#4f6d94", ineligible: "#c0392b", not_applicable: "#8a939c" };
  const PAGE = 20;
  let run = null;
  let report = null;
  let offset = 0;
  const charts = {};

  const money = (v) => {
    const n = Number(v || 0);
    return n.toLocaleString(config.lang === "en" ? "en-GB" : "zh-CN", { maximumFractionDigits: 2 });
  };

  // ------------------------------------------------------------------ the run

  function renderMeta() {
    document.getElementById("run-title").textContent = run.title || run.filename || t("desk.run_title");
    document.getElementById("run-meta").replaceChildren(
      (run.status_label || run.status), " · ", t("desk.as_of") + " " + run.as_of, " · ", t("site.rule_pack") + " " + run.rule_pack_version,
      " · ", fmtTime(run.created_at), run.created_by ? " · " + run.created_by : "");
    if (run.error) {
      const box = document.getElementById("run-error");
      box.textContent = run.error;
      box.classList.remove("d-none");
    }
  }

  function kpi(label, value, id) {
    return el("div", { class: "col-6 col-md-3" }, el("div", { class: "desk-kpi", id }, el("div", { class: "small text-body-secondary" }, label), el("div", { class: "num" }, value)));
  }

  async function loadReport() {
    const res = await api("GET", EP.report(runId));
    if (!res.ok) return;
    report = res.data;
    const eligible = report.measures.reduce((s, m) => s + m.by_outcome.eligible.count, 0);
    document.getElementById("run-kpis").replaceChildren(
      kpi(t("desk.rows"), String(report.rows ?? "—"), "kpi-rows"),
      kpi(t("desk.kpi_eligible"), String(eligible), "kpi-eligible"),
      kpi(t("desk.bad_rows"), String(report.invalid ?? 0), "kpi-invalid"),
      kpi(t("desk.budget"), money(report.benefit_forecast_total), "kpi-budget"));
    // districts and failed criteria feed the filters
    const districts = new Map();
    for (const m of report.measures) for (const d of m.by_district) if (d.region_code) districts.set(d.region_code, d.district || d.region_code);
    const sel = document.getElementById("flt-district");
    sel.replaceChildren(el("option", { value: "" }, t("common.all")), ...[...districts].sort().map(([code, name]) => el("option", { value: code }, name + "（" + code + "）")));
    fillCriteria();
    const fm = document.getElementById("funnel-measure");
    fm.replaceChildren(...report.measures.map((m) => el("option", { value: m.measure_id }, m.title)));
    const best = [...report.measures].sort((a, b) => b.funnel.length - a.funnel.length)[0];
    if (best) fm.value = best.measure_id;
  }

  function fillCriteria() {
    const measure = document.getElementById("flt-measure").value;
    const sel = document.getElementById("flt-criterion");
    const keep = sel.value;
    const seen = new Map();
    for (const m of (report ? report.measures : [])) {
      if (measure && m.measure_id !== measure) continue;
      for (const c of m.criteria_failed) seen.set(c.criterion, (measure ? "" : m.title + " · ") + c.label);
    }
    sel.replaceChildren(el("option", { value: "" }, t("common.all")), ...[...seen].map(([id, label]) => el("option", { value: id }, label)));
    if (seen.has(keep)) sel.value = keep;
  }

  async function loadErrors() {
    const res = await api("GET", EP.errors(runId) + "?limit=50");
    if (!res.ok || !res.data.items.length) return;
    const rows = [];
    for (const item of res.data.items) for (const e of item.errors) {
      rows.push(el("tr", {}, el("td", {}, String(e.row || item.row)), el("td", {}, e.header || e.column || e.field || ""), el("td", {}, e.value === null || e.value === undefined ? "" : String(e.value)), el("td", {}, e.reason || e.message || "")));
    }
    document.getElementById("run-errors-body").replaceChildren(el("table", { class: "table table-sm small" },
      el("thead", {}, el("tr", {}, ["desk.row", "desk.column", "desk.value", "desk.reason"].map((k) => el("th", { scope: "col" }, t(k))))), el("tbody", {}, rows)),
      res.data.total > res.data.items.length ? el("p", { class: "small" }, "… " + res.data.total) : null);
    document.getElementById("run-errors").classList.remove("d-none");
  }

  // ------------------------------------------------------------------ results

  function filters() {
    const p = new URLSearchParams();
    for (const [k, id] of [["measure", "flt-measure"], ["outcome", "flt-outcome"], ["criterion", "flt-criterion"], ["region_code", "flt-district"]]) {
      const v = document.getElementById(id).value;
      if (v) p.set(k, v);
    }
    return p;
  }

  async function loadResults() {
    const box = document.getElementById("results-box");
    const p = filters();
    p.set("limit", PAGE);
    p.set("offset", offset);
    const res = await api("GET", EP.results(runId) + "?" + p.toString());
    if (!res.ok) { box.replaceChildren(el("div", { class: "alert alert-danger" }, problemText(res.problem))); return; }
    const { items, total } = res.data;
    if (!items.length) { box.replaceChildren(el("p", { class: "text-body-secondary", id: "results-empty" }, t("desk.no_results"))); box.dataset.query = p.toString(); return; }
    const table = el("table", { class: "table table-sm table-hover align-middle table-results", id: "results-table" },
      el("caption", { class: "small" }, t("desk.page", { from: offset + 1, to: offset + items.length, total })),
      el("thead", {}, el("tr", {}, ["desk.row", "desk.enterprise", "desk.credit_code", "desk.district", "desk.measure", "desk.outcome", "desk.reason", "desk.benefit", ""].map((k) => el("th", { scope: "col" }, k ? t(k) : "")))),
      el("tbody", {}, items.map((r) => el("tr", { dataset: { row: r.row, measure: r.measure_id, outcome: r.outcome } },
        el("td", {}, String(r.row)),
        el("td", {}, r.name || ""),
        el("td", {}, el("code", {}, r.credit_code || "")),
        el("td", {}, r.district || r.region_code || ""),
        el("td", {}, (titles[r.measure_id] || r.measure_id) + (r.subject && r.subject.id ? "（" + r.subject.id + "）" : "")),
        el("td", {}, outcomeBadge(r.outcome, r.outcome_label)),
        el("td", { class: "small reasons", title: r.reasons || "" }, (r.reasons || "").length > 90 ? r.reasons.slice(0, 90) + "…" : r.reasons || ""),
        el("td", {}, r.benefit_amount ? money(r.benefit_amount) + " 万元" : r.benefit_tier || ""),
        el("td", {}, el("button", { type: "button", class: "btn btn-sm btn-outline-primary", onclick: () => openRow(r.row) }, t("desk.explain")))))));
    const pager = el("nav", { "aria-label": t("desk.page", { from: offset + 1, to: offset + items.length, total }) },
      el("ul", { class: "pagination pagination-sm" },
        el("li", { class: "page-item" + (offset === 0 ? " disabled" : "") }, el("button", { type: "button", class: "page-link", disabled: offset === 0, onclick: () => { offset = Math.max(0, offset - PAGE); loadResults(); } }, t("desk.prev"))),
        el("li", { class: "page-item" + (offset + PAGE >= total ? " disabled" : "") }, el("button", { type: "button", class: "page-link", disabled: offset + PAGE >= total, onclick: () => { offset += PAGE; loadResults(); } }, t("desk.next")))));
    box.replaceChildren(el("div", { class: "table-responsive" }, table), pager);
    box.dataset.query = p.toString(); // what the table shows now (the tests wait for it)
  }

  // ------------------------------------------------------------------ one application

  function criteriaList(detail) {
    const crit = (detail && detail.criteria) || [];
    if (!crit.length) return null;
    return el("ul", { class: "small mb-2" }, crit.map((c) => el("li", { dataset: { criterion: c.id || "" } },
      el("span", { class: "status-" + c.status }, (c.status_label || t("status." + c.status)) + "："),
      c.explanation || c.label || c.id,
      c.gap_display ? el("span", { class: "gap ms-1" }, "（" + c.gap_display + "）") : null,
      c.moot === true ? el("span", { class: "text-body-secondary not-decisive ms-1" }, "（" + t("res.not_decisive") + "）") : null,
      c.remedy ? el("div", { class: "remedy mt-1" }, c.remedy) : null)));
  }

  function decisionForm(row, r, onSaved) {
    const key = "d-" + row + "-" + r.measure_id + "-" + (r.subject.id || "");
    const needsOverride = r.outcome !== "eligible" && r.outcome !== "needs_review";
    const err = el("div", { class: "text-danger small", role: "alert", id: key + "-err" });
    const decision = el("select", { class: "form-select form-select-sm", id: key + "-decision" },
      el("option", { value: "approve" }, t("desk.approve")), el("option", { value: "reject" }, t("desk.reject")), el("option", { value: "request_info" }, t("desk.request_info")));
    decision.value = r.outcome === "eligible" ? "approve" : r.outcome === "ineligible" ? "reject" : "request_info";
    const reason = el("textarea", { class: "form-control form-control-sm", id: key + "-reason", rows: "2", required: true });
    const override = el("textarea", { class: "form-control form-control-sm", id: key + "-override", rows: "2" });
    const overrideBox = el("div", { class: "col-12" + (needsOverride && decision.value === "approve" ? "" : " d-none") },
      el("label", { class: "form-label small", for: key + "-override" }, t("desk.review_override")), override);
    decision.addEventListener("change", () => overrideBox.classList.toggle("d-none", !(needsOverride && decision.value === "approve")));
    const formEl = el("form", { class: "row g-2 align-items-end decision-form", dataset: { measure: r.measure_id }, novalidate: true },
      el("div", { class: "col-md-3" }, el("label", { class: "form-label small", for: key + "-decision" }, t("desk.review_decision")), decision),
      el("div", { class: "col-md-7" }, el("label", { class: "form-label small", for: key + "-reason" }, t("desk.review_reason")), reason),
      el("div", { class: "col-md-2" }, el("button", { type: "submit", class: "btn btn-sm btn-primary w-100" }, t("desk.review_submit"))),
      overrideBox, el("div", { class: "col-12" }, err));
    formEl.addEventListener("submit", async (e) => {
      e.preventDefault();
      err.textContent = "";
      reason.classList.remove("is-invalid");
      override.classList.remove("is-invalid");
      const body = { measure_id: r.measure_id, decision: decision.value, reason: reason.value.trim() };
      if (r.subject.id) body.subject_id = r.subject.id;
      if (override.value.trim()) body.override_reason = override.value.trim();
      const res = await api("POST", EP.decide(runId, row), { json: body });
      if (!res.ok) {
        const errs = res.problem.errors || [];
        for (const x of errs) {
          if (x.field === "reason") reason.classList.add("is-invalid");
          if (x.field === "override_reason") { override.classList.add("is-invalid"); overrideBox.classList.remove("d-none"); }
        }
        err.textContent = errs.length ? errs.map((x) => oneLanguage(x.message)).join("；") : problemText(res.problem);
        return;
      }
      announce(t("desk.review_saved"));
      onSaved();
    });
    return formEl;
  }

  async function openRow(row) {
    const modalEl = document.getElementById("row-modal");
    const body = document.getElementById("row-modal-body");
    const res = await api("GET", EP.row(runId, row));
    if (!res.ok) { body.replaceChildren(el("p", {}, problemText(res.problem))); return; }
    const d = res.data;
    document.getElementById("row-modal-title").textContent = t("desk.row") + " " + d.row + " · " + (d.name || "") + " " + (d.credit_code || "");
    const decisionsOf = (r) => d.decisions.filter((x) => x.measure_id === r.measure_id && (x.subject_id || null) === (r.subject.id || null));
    body.replaceChildren(
      el("p", { class: "small text-body-secondary" }, (d.district || d.region_code || "") + (d.evaluation_error ? " · " + d.evaluation_error : "")),
      ...d.results.map((r) => el("section", { class: "card mb-3 result-card outcome-" + r.outcome, dataset: { measure: r.measure_id } },
        el("div", { class: "card-header d-flex gap-2 align-items-center" },
          el("h3", { class: "h6 mb-0 me-auto" }, (titles[r.measure_id] || r.measure_id) + (r.subject.id ? "（" + r.subject.id + "）" : "")),
          el("span", { class: "small" }, t("desk.auto_outcome")), outcomeBadge(r.outcome, r.outcome_label)),
        el("div", { class: "card-body" },
          r.reasons ? el("p", { class: "mb-2" }, r.reasons) : null,
          criteriaList(r.detail),
          decisionsOf(r).length ? el("ul", { class: "small mb-2 decisions-list" }, decisionsOf(r).map((x) => el("li", {},
            el("strong", {}, x.decision_label), "：", x.reason, x.override_reason ? "（" + t("desk.review_override").split("（")[0] + "：" + x.override_reason + "）" : "",
            " — ", x.decided_by || "", " ", fmtTime(x.decided_at)))) : el("p", { class: "small text-body-secondary mb-2" }, t("desk.no_decision")),
          decisionForm(d.row, r, () => { openRow(row); loadDecisions(); })))),
    );
    if (modalEl.classList.contains("show")) {
      // re-drawn after a decision: keep the keyboard in the dialog (Escape still closes it)
      const saved = body.querySelector(".decisions-list");
      (saved || modalEl).setAttribute("tabindex", "-1");
      (saved || modalEl).focus();
    } else {
      bootstrap.Modal.getOrCreateInstance(modalEl).show();
    }
  }

  // ------------------------------------------------------------------ decisions

  async function loadDecisions() {
    const box = document.getElementById("decisions-box");
    const res = await api("GET", EP.decisions(runId) + "?limit=200");
    if (!res.ok) { box.replaceChildren(el("p", {}, problemText(res.problem))); return; }
    if (!res.data.items.length) { box.replaceChildren(el("p", { class: "text-body-secondary" }, t("desk.no_decision"))); return; }
    box.replaceChildren(el("table", { class: "table table-sm", id: "decisions-table" },
      el("thead", {}, el("tr", {}, ["desk.row", "desk.measure", "desk.auto_outcome", "desk.review_decision", "desk.review_reason", "audit.who", "audit.when"].map((k) => el("th", { scope: "col" }, t(k))))),
      el("tbody", {}, res.data.items.map((x) => el("tr", {},
        el("td", {}, String(x.row)), el("td", {}, titles[x.measure_id] || x.measure_id),
        el("td", {}, outcomeBadge(x.automatic_outcome, x.automatic_outcome_label)),
        el("td", {}, x.decision_label + (x.is_override ? " ⚑" : "")), el("td", {}, x.reason + (x.override_reason ? "（" + x.override_reason + "）" : "")),
        el("td", {}, x.decided_by || ""), el("td", {}, fmtTime(x.decided_at)))))));
  }

  // ------------------------------------------------------------------ charts

  function chart(id) {
    if (!charts[id]) charts[id] = echarts.init(document.getElementById(id), null, { locale: config.lang === "en" ? "EN" : "ZH", renderer: "canvas" });
    return charts[id];
  }

  async function districtBudget(measure) {
    // the benefit of the eligible results by district (a run's report counts applicants by district)
    const sums = {};
    for (let off = 0, n = 0; n < 20; n++, off += 500) {
      const p = new URLSearchParams({ outcome: "eligible", limit: "500", offset: String(off) });
      if (measure) p.set("measure", measure);
      const res = await api("GET", EP.results(runId) + "?" + p.toString());
      if (!res.ok) break;
      for (const r of res.data.items) if (r.benefit_amount) sums[r.region_code || ""] = (sums[r.region_code || ""] || 0) + Number(r.benefit_amount);
      if (off + 500 >= res.data.total) break;
    }
    return sums;
  }

  async function drawCharts() {
    if (!report) return;
    const aria = { enabled: true, decal: { show: false } };
    const names = report.measures.map((m) => m.title);
    chart("chart-outcomes").setOption({
      aria, tooltip: { trigger: "axis", axisPointer: { type: "shadow" } }, legend: { top: 0 },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "value", name: t("desk.applicants") }, yAxis: { type: "category", data: names, axisLabel: { width: 170, overflow: "truncate" } },
      series: OUTCOMES.map((o) => ({ name: t("outcome." + o), type: "bar", stack: "all", itemStyle: { color: COLORS[o] }, data: report.measures.map((m) => m.by_outcome[o].count) })),
    }, true);
    drawFunnel();
    // applicants per district (an applicant is screened for every measure: the largest count is the
    // number of applications), eligible applications and the budget their benefits imply
    const byDistrict = new Map();
    for (const m of report.measures) for (const d of m.by_district) {
      const key = d.region_code || "";
      const row = byDistrict.get(key) || { name: d.district || d.region_code || t("desk.unknown_district"), applicants: 0, eligible: 0 };
      if (m.subjects === m.applicants) row.applicants = Math.max(row.applicants, d.total);
      row.eligible += d.by_outcome.eligible || 0;
      byDistrict.set(key, row);
    }
    const budget = await districtBudget(null);
    const keys = [...byDistrict.keys()].sort((a, b) => (a === "") - (b === "") || a.localeCompare(b));
    chart("chart-districts").setOption({
      aria, tooltip: { trigger: "axis" }, legend: { top: 0 },
      grid: { left: 8, right: 8, top: 50, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: keys.map((k) => byDistrict.get(k).name) },
      yAxis: [{ type: "value", name: t("desk.applicants"), nameTextStyle: { align: "left" } }, { type: "value", name: t("desk.budget"), nameTextStyle: { align: "right" } }],
      series: [
        { name: t("desk.applicants"), type: "bar", data: keys.map((k) => byDistrict.get(k).applicants), itemStyle: { color: "#0b4a8f" } },
        { name: t("desk.kpi_eligible"), type: "bar", data: keys.map((k) => byDistrict.get(k).eligible), itemStyle: { color: COLORS.eligible } },
        { name: t("desk.budget"), type: "line", yAxisIndex: 1, data: keys.map((k) => Math.round((budget[k] || 0) * 100) / 100), itemStyle: { color: "#b00d24" }, label: { show: true, position: "top", color: "#7a1020" } },
      ],
    }, true);
  }

  function drawFunnel() {
    // the attrition funnel as a waterfall: who is still in after each criterion, and who it excluded
    const measure = document.getElementById("funnel-measure").value;
    const m = report.measures.find((x) => x.measure_id === measure);
    if (!m) return;
    const steps = [{ label: t("desk.applicants"), remaining: m.subjects, excluded: 0 }].concat(m.funnel);
    const inName = config.lang === "en" ? "still in" : "剩余";
    const outName = config.lang === "en" ? "excluded here" : "本条淘汰";
    chart("chart-funnel").setOption({
      aria: { enabled: true }, tooltip: { trigger: "axis", axisPointer: { type: "shadow" } }, legend: { top: 0 },
      grid: { left: 8, right: 48, top: 30, bottom: 8, containLabel: true },
      xAxis: { type: "value" },
      yAxis: { type: "category", inverse: true, data: steps.map((s, i) => (i ? "− " : "") + s.label), axisLabel: { width: 190, overflow: "truncate" } },
      series: [
        { name: inName, type: "bar", stack: "f", data: steps.map((s) => s.remaining), itemStyle: { color: "#0b4a8f" }, label: { show: true, position: "insideLeft", color: "#fff" } },
        { name: outName, type: "bar", stack: "f", data: steps.map((s) => s.excluded), itemStyle: { color: "#e8a0a8" }, label: { show: true, position: "right", color: "#7a1020", formatter: (p) => (p.value ? "−" + p.value : "") } },
      ],
    }, true);
  }

  // ------------------------------------------------------------------ impact of a rule change

  async function fillParameters() {
    const res = await api("GET", "/v1/measures");
    if (!res.ok) return;
    const sel = document.getElementById("impact-param");
    const wanted = run.measures || null;
    const opts = [];
    for (const m of res.data) {
      if (wanted && !wanted.includes(m.id)) continue;
      for (const [name, p] of Object.entries(m.parameters)) {
        const current = p.values[p.values.length - 1];
        if (!current || typeof current.value === "object" || current.value === null || typeof current.value === "boolean") continue;
        const shown = p.unit === "ratio" ? (Number(current.value) * 100).toFixed(2).replace(/\.?0+$/, "") + "%" : current.value + (p.unit === "wan_yuan" ? " 万元" : "");
        opts.push(el("option", { value: m.id + "." + name, dataset: { unit: p.unit } }, m.title + " · " + (p.description || name) + "（" + shown + "）"));
      }
    }
    sel.replaceChildren(...opts);
  }

  async function runImpact(e) {
    e.preventDefault();
    const sel = document.getElementById("impact-param");
    const input = document.getElementById("impact-value");
    const status = document.getElementById("impact-status");
    input.classList.remove("is-invalid");
    let value = input.value.trim();
    const unit = sel.selectedOptions[0] ? sel.selectedOptions[0].dataset.unit : "";
    if (unit === "ratio" && value.endsWith("%")) value = String(Number(value.slice(0, -1)) / 100);
    if (!value || isNaN(Number(value))) {
      input.classList.add("is-invalid");
      document.getElementById("impact-value-error").textContent = t("desk.impact_value");
      input.focus();
      return;
    }
    document.getElementById("impact-run").disabled = true;
    status.textContent = t("wi.computing");
    const res = await api("POST", EP.impactCreate(runId), { json: { overrides: { [sel.value]: value } } });
    if (!res.ok) {
      document.getElementById("impact-run").disabled = false;
      status.textContent = "";
      input.classList.add("is-invalid");
      document.getElementById("impact-value-error").textContent = (res.problem.errors || []).map((x) => oneLanguage(x.message)).join("；") || problemText(res.problem);
      return;
    }
    const final = await follow(res.data.id, (r) => { if (r) status.textContent = (r.status_label || r.status) + " · " + Math.floor((r.progress || {}).percent || 0) + "%"; }, 300);
    document.getElementById("impact-run").disabled = false;
    if (!final || !DONE.includes(final.status)) { status.textContent = final ? final.error || final.status : ""; return; }
    const imp = await api("GET", EP.impact(final.id) + "?limit=100");
    if (!imp.ok) { status.textContent = problemText(imp.problem); return; }
    const d = imp.data;
    status.replaceChildren(el("strong", { id: "impact-summary" }, t("desk.impact_changed", { n: d.changed, delta: money(d.budget_difference_total) })));
    const box = document.getElementById("chart-impact");
    box.classList.remove("d-none");
    chart("chart-impact").setOption({
      aria: { enabled: true }, tooltip: { trigger: "axis" }, legend: { top: 0 },
      grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: d.budget.map((b) => titles[b.measure_id] || b.measure_id), axisLabel: { interval: 0, width: 110, overflow: "truncate" } },
      yAxis: { type: "value", name: t("desk.budget") },
      series: [
        { name: config.lang === "en" ? "before" : "调整前", type: "bar", data: d.budget.map((b) => Number(b.before)), itemStyle: { color: "#8a939c" } },
        { name: config.lang === "en" ? "after" : "调整后", type: "bar", data: d.budget.map((b) => Number(b.after)), itemStyle: { color: "#0b4a8f" } },
      ],
    }, true);
    document.getElementById("impact-box").replaceChildren(el("table", { class: "table table-sm mt-3", id: "impact-table" },
      el("thead", {}, el("tr", {}, ["desk.row", "desk.enterprise", "desk.measure", "desk.outcome", "desk.reason"].map((k) => el("th", { scope: "col" }, t(k))))),
      el("tbody", {}, d.items.map((x) => el("tr", {}, el("td", {}, String(x.row)), el("td", {}, (x.name || "") + " " + (x.credit_code || "")),
        el("td", {}, titles[x.measure_id] || x.measure_id), el("td", {}, outcomeBadge(x.before, x.before_label), " → ", outcomeBadge(x.after, x.after_label)),
        el("td", { class: "small" }, x.reasons_after || ""))))));
    announce(t("desk.impact_changed", { n: d.changed, delta: money(d.budget_difference_total) }));
  }

  // ------------------------------------------------------------------ start

  async function loadAll() {
    await loadReport();
    await Promise.all([loadResults(), loadErrors(), loadDecisions(), fillParameters()]);
    if (document.getElementById("tab-charts").classList.contains("active")) drawCharts();
    document.body.dataset.ready = "1";
  }

  async function start() {
    const res = await api("GET", EP.run(runId));
    if (!res.ok) {
      document.getElementById("run-error").textContent = problemText(res.problem);
      document.getElementById("run-error").classList.remove("d-none");
      return;
    }
    run = res.data;
    renderMeta();
    if (!DONE.includes(run.status) && !FAILED.includes(run.status)) {
      const box = document.getElementById("run-progress");
      box.classList.remove("d-none");
      run = await follow(runId, (r) => { if (r) showProgress(document.getElementById("run-progressbar"), document.getElementById("run-progress-text"), r); }, 400) || run;
      renderMeta();
    }
    await loadAll();
  }

  document.getElementById("filter-form").addEventListener("submit", (e) => { e.preventDefault(); offset = 0; loadResults(); });
  document.getElementById("flt-measure").addEventListener("change", fillCriteria);
  document.getElementById("funnel-measure").addEventListener("change", () => drawFunnel());
  document.getElementById("tab-charts").addEventListener("shown.bs.tab", () => { drawCharts(); Object.values(charts).forEach((c) => c.resize()); });
  document.getElementById("tab-impact").addEventListener("shown.bs.tab", () => Object.values(charts).forEach((c) => c.resize()));
  document.getElementById("impact-form").addEventListener("submit", runImpact);
  window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));
  for (const fmt of ["xlsx", "csv"]) {
    document.getElementById("export-" + fmt).addEventListener("click", async () => {
      const r = await download(EP.exportFile(runId, fmt), "screening." + fmt);
      if (!r.ok) { document.getElementById("run-error").textContent = problemText(r.problem); document.getElementById("run-error").classList.remove("d-none"); }
    });
  }
  if (user.role === "admin") {  // only administrators delete (audited); the API refuses others
    const del = document.getElementById("run-delete");
    del.classList.remove("d-none");
    del.addEventListener("click", async () => {
      if (!window.confirm(t("desk.delete_confirm"))) return;
      const res = await api("DELETE", "/v1/screenings/" + encodeURIComponent(runId));
      if (res.ok) { location.href = "/desk"; return; }
      document.getElementById("run-error").textContent = problemText(res.problem);
      document.getElementById("run-error").classList.remove("d-none");
    });
  }
  start();
})();
