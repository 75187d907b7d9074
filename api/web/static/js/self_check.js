/* 惠企 huiqi — 企业自评: a form that asks only what the chosen measures need, the result as a report,
   and, once there is a result, a live what-if: which outcomes flip as values change. */
(function () {
  "use strict";
  const { t, el, api, auth, announce, problemText, oneLanguage, config } = window.HQ;
  const lang = config.lang;
  const FIELDS = config.fields;
  const NEEDS = config.needs;
  const form = document.getElementById("sc-form");
  const asOfInput = document.getElementById("f-as_of");

  const label = (f) => (lang === "en" ? f.en : f.zh);
  const unitOf = (f) => (f.unit ? (lang === "en" ? f.unit_en : f.unit_zh) : "");
  const hintOf = (f) => (lang === "en" ? f.hint_en : f.hint_zh);
  const byGroup = (g) => FIELDS.filter((f) => f.group === g);

  let projectSeq = 0;
  let extraYears = [];
  const fiscalValues = {}; // year → {name: text}, kept while the year cards are rebuilt
  let last = null; // {profile, as_of, measures, result}
  let whatIfTimer = null;
  let whatIfSeq = 0;

  // ------------------------------------------------------------------ building the form

  function inputFor(f, id, path) {
    const common = { id, class: "form-control", "data-path": path, "data-kind": f.kind, name: path };
    if (f.kind === "bool") {
      return el("select", Object.assign({}, common, { class: "form-select" }),
        el("option", { value: "" }, t("sc.unknown")), el("option", { value: "true" }, t("common.yes")), el("option", { value: "false" }, t("common.no")));
    }
    if (f.kind === "enum") {
      return el("select", Object.assign({}, common, { class: "form-select" }),
        el("option", { value: "" }, t("sc.unknown")), f.options.map((o) => el("option", { value: o.value }, lang === "en" ? o.en : o.zh)));
    }
    if (f.kind === "date") return el("input", Object.assign({}, common, { type: "date" }));
    const attrs = Object.assign({}, common, { type: "text", autocomplete: "off" });
    if (f.kind === "money" || f.kind === "score") attrs.inputmode = "decimal";
    if (f.kind === "people" || f.kind === "count" || f.kind === "year") attrs.inputmode = "numeric";
    if (f.path === "credit_code") { attrs.maxlength = "18"; attrs.spellcheck = "false"; attrs.autocapitalize = "characters"; }
    return el("input", attrs);
  }

  function fieldBlock(f, id, path, cols) {
    const input = inputFor(f, id, path);
    const hint = hintOf(f);
    const described = [];
    if (hint) described.push(id + "-hint");
    described.push(id + "-error");
    input.setAttribute("aria-describedby", described.join(" "));
    if (f.required) input.setAttribute("aria-required", "true");
    const unit = unitOf(f);
    const control = unit ? el("div", { class: "input-group has-validation" }, input, el("span", { class: "input-group-text unit", "aria-hidden": "true" }, unit)) : input;
    if (unit) input.setAttribute("aria-label", label(f) + "（" + unit + "）");
    return el("div", { class: (cols || "col-md-6 col-lg-4") + " field", dataset: { field: f.path } },
      el("label", { class: "form-label", for: id }, label(f), unit ? el("span", { class: "text-body-secondary" }, "（" + unit + "）") : null,
        f.required ? el("span", { class: "text-danger", "aria-hidden": "true" }, " *") : null),
      control,
      hint ? el("div", { class: "field-help", id: id + "-hint" }, hint) : null,
      el("div", { class: "invalid-feedback", id: id + "-error" }));
  }

  function buildPlainGroup(g) {
    const body = document.getElementById("grp-body-" + g);
    body.append(el("div", { class: "row g-3" }, byGroup(g).map((f) => fieldBlock(f, "f-" + f.path.replace(/\./g, "-"), f.path))));
  }

  function yearsForAsOf() {
    const asOf = asOfInput.value || config.today;
    const y = parseInt(asOf.slice(0, 4), 10);
    const years = new Set([y - 1, y - 2, y - 3, ...extraYears]);
    return [...years].sort((a, b) => b - a);
  }

  function saveFiscalValues() {
    form.querySelectorAll("[data-fy]").forEach((input) => {
      const year = input.dataset.fy;
      fiscalValues[year] = fiscalValues[year] || {};
      fiscalValues[year][input.dataset.name] = input.value;
    });
  }

  // save = false when the values were just set from a loaded profile: the inputs on screen are stale
  function buildFiscal(save = true) {
    if (save) saveFiscalValues();
    const body = document.getElementById("grp-body-fiscal");
    body.replaceChildren(el("p", { class: "field-help" }, t("sc.fiscal_help")));
    for (const year of yearsForAsOf()) {
      const blocks = byGroup("fiscal").map((f) => {
        const name = f.path.split(".")[1];
        const block = fieldBlock(f, "f-fy-" + year + "-" + name, "fiscal_years[" + year + "]." + name, "col-sm-6 col-lg-3");
        const input = block.querySelector("[data-path]");
        input.dataset.fy = year;
        input.dataset.name = name;
        input.value = (fiscalValues[year] || {})[name] || "";
        return block;
      });
      body.append(el("fieldset", { class: "fy-card", dataset: { year } },
        el("legend", {}, t("sc.fiscal_year", { year })),
        el("div", { class: "group-error", id: "fy-" + year + "-error", role: "alert" }),
        el("div", { class: "row g-3" }, blocks)));
    }
    applyVisibility();
  }

  function addProject(values) {
    const n = ++projectSeq;
    const blocks = byGroup("projects").map((f) => {
      const name = f.path.split(".")[1];
      const block = fieldBlock(f, "f-pj-" + n + "-" + name, "projects[#" + n + "]." + name, "col-sm-6 col-lg-3");
      const input = block.querySelector("[data-path]");
      input.dataset.pj = n;
      input.dataset.name = name;
      if (values && values[name] !== undefined && values[name] !== null) input.value = String(values[name]);
      return block;
    });
    const card = el("fieldset", { class: "project-card", dataset: { project: n } },
      el("legend", {}, t("sc.project_n", { n })),
      el("div", { class: "group-error", id: "pj-" + n + "-error", role: "alert" }),
      el("div", { class: "row g-3" }, blocks),
      el("button", { type: "button", class: "btn btn-sm btn-outline-danger mt-2", onclick: () => { card.remove(); scheduleWhatIf(); } }, t("sc.remove_project", { n })));
    document.getElementById("pj-list").append(card);
    applyVisibility();
    return card;
  }

  function buildProjects() {
    const body = document.getElementById("grp-body-projects");
    body.append(el("p", { class: "field-help" }, t("sc.projects_help")), el("div", { id: "pj-list" }),
      el("button", { type: "button", class: "btn btn-outline-primary btn-sm", id: "sc-add-project", onclick: () => { const c = addProject(); c.querySelector("input").focus(); } }, t("sc.add_project")));
  }

  function selectedMeasures() {
    return [...form.querySelectorAll("input[name=measures]:checked")].map((i) => i.value);
  }

  function applyVisibility() {
    const needed = new Set();
    for (const m of selectedMeasures()) for (const p of NEEDS[m] || []) needed.add(p);
    if (needed.size === 0) ["credit_code", "name"].forEach((p) => needed.add(p));
    document.querySelectorAll(".field[data-field]").forEach((block) => {
      const show = needed.has(block.dataset.field);
      block.hidden = !show;
      block.querySelectorAll("[data-path]").forEach((i) => { i.disabled = !show; });
    });
    document.querySelectorAll(".field-group").forEach((section) => {
      const g = section.dataset.group;
      const count = FIELDS.filter((f) => f.group === g && needed.has(f.path)).length;
      section.hidden = count === 0;
      section.querySelector(".group-count").textContent = count ? t("sc.n_fields", { n: count }) : "";
    });
    if (needed.has("projects.id") && !document.querySelector(".project-card")) addProject();
  }

  // ------------------------------------------------------------------ reading the form

  function readValue(input) {
    const v = input.value.trim();
    if (v === "") return undefined;
    switch (input.dataset.kind) {
      case "bool": return v === "true";
      case "people": case "count": case "year": return /^-?\d+$/.test(v) ? parseInt(v, 10) : v;
      default: return v;
    }
  }

  function setDeep(obj, path, value) {
    const parts = path.split(".");
    let node = obj;
    for (const p of parts.slice(0, -1)) node = node[p] = node[p] || {};
    node[parts[parts.length - 1]] = value;
  }

  /* the profile and, for mapping error paths back, which card each list entry came from */
  function readProfile() {
    const profile = {};
    const index = { fiscal: [], projects: [] };
    form.querySelectorAll("[data-path]:not([data-fy]):not([data-pj])").forEach((input) => {
      if (input.disabled) return;
      const v = readValue(input);
      if (v !== undefined) setDeep(profile, input.dataset.path, v);
    });
    // a certificate the enterprise does not hold is null, not an empty object
    const years = [];
    document.querySelectorAll(".fy-card").forEach((card) => {
      const fy = { year: parseInt(card.dataset.year, 10) };
      let any = false;
      card.querySelectorAll("[data-fy]").forEach((input) => {
        if (input.disabled) return;
        const v = readValue(input);
        if (v !== undefined) { fy[input.dataset.name] = v; any = true; }
      });
      if (any) { years.push(fy); index.fiscal.push(card.dataset.year); }
    });
    if (years.length) profile.fiscal_years = years;
    const projects = [];
    document.querySelectorAll(".project-card").forEach((card) => {
      const pj = {};
      let any = false;
      card.querySelectorAll("[data-pj]").forEach((input) => {
        if (input.disabled) return;
        const v = readValue(input);
        if (v !== undefined) { pj[input.dataset.name] = v; any = true; }
      });
      if (any) { projects.push(pj); index.projects.push(card.dataset.project); }
    });
    if (projects.length) profile.projects = projects;
    return { profile, index };
  }

  function request(profile) {
    const body = { profile, measures: selectedMeasures(), lang, detail: "full" };
    if (asOfInput.value) body.as_of = asOfInput.value;
    return body;
  }

  // ------------------------------------------------------------------ errors at the field

  function clearErrors() {
    form.querySelectorAll(".is-invalid").forEach((i) => { i.classList.remove("is-invalid"); i.removeAttribute("aria-invalid"); });
    form.querySelectorAll(".invalid-feedback, .group-error").forEach((d) => { d.textContent = ""; });
    document.getElementById("sc-errors").classList.add("d-none");
    document.getElementById("sc-errors-list").replaceChildren();
  }

  /* profile.fiscal_years[0].sales_revenue → the input of that year's card; an entry-level error → its card */
  function targetOf(field, index) {
    let path = field.replace(/^profile\./, "");
    let m = path.match(/^fiscal_years\[(\d+)\](?:\.(\w+))?/);
    if (m) {
      const year = index.fiscal[parseInt(m[1], 10)];
      if (year === undefined) return { box: document.getElementById("grp-body-fiscal") };
      if (m[2]) return { input: document.getElementById("f-fy-" + year + "-" + m[2]) };
      return { box: document.getElementById("fy-" + year + "-error") };
    }
    m = path.match(/^projects\[(\d+)\](?:\.(\w+))?/);
    if (m) {
      const n = index.projects[parseInt(m[1], 10)];
      if (n === undefined) return { box: document.getElementById("grp-body-projects") };
      if (m[2]) return { input: document.getElementById("f-pj-" + n + "-" + m[2]) };
      return { box: document.getElementById("pj-" + n + "-error") };
    }
    if (path === "as_of") return { input: asOfInput };
    const input = form.querySelector('[data-path="' + CSS.escape(path) + '"]');
    if (input) return { input };
    // certifications.hte → its first field
    const inside = form.querySelector('[data-path^="' + CSS.escape(path) + '."]');
    return inside ? { input: inside } : {};
  }

  function showErrors(problem, index) {
    clearErrors();
    const errors = problem.errors && problem.errors.length ? problem.errors : [{ field: "", message: problemText(problem) }];
    const list = document.getElementById("sc-errors-list");
    let first = null;
    for (const raw of errors) {
      const e = Object.assign({}, raw, { message: oneLanguage(raw.message) });
      const target = e.field ? targetOf(e.field, index) : {};
      let anchor = null;
      if (target.input) {
        target.input.classList.add("is-invalid");
        target.input.setAttribute("aria-invalid", "true");
        const fb = document.getElementById(target.input.id + "-error");
        if (fb) { fb.textContent = fb.textContent ? fb.textContent + "；" + e.message : e.message; fb.classList.add("d-block"); }
        anchor = target.input;
      } else if (target.box) {
        target.box.textContent = e.message;
        anchor = target.box.closest("fieldset, section") || target.box;
      }
      first = first || anchor;
      const labelEl = anchor && anchor.id ? document.querySelector('label[for="' + anchor.id + '"]') : null;
      const fieldName = labelEl ? labelEl.textContent.replace(/\s*\*$/, "") : e.field;
      list.append(el("li", {}, anchor && anchor.id
        ? el("a", { href: "#" + anchor.id, onclick: (ev) => { ev.preventDefault(); anchor.focus(); } }, (fieldName || e.field) + "：" + e.message)
        : (e.field ? e.field + "：" : "") + e.message));
    }
    const box = document.getElementById("sc-errors");
    box.classList.remove("d-none");
    box.focus();
    announce(t("sc.errors_title"));
  }

  // ------------------------------------------------------------------ evaluating

  function setBusy(busy, text) {
    document.getElementById("sc-submit").disabled = busy;
    document.getElementById("sc-status").textContent = text || "";
  }

  async function evaluate() {
    clearErrors();
    const { profile, index } = readProfile();
    const body = request(profile);
    if (!body.measures.length) {
      showErrors({ errors: [{ field: "", message: t("sc.no_measures") }] }, index);
      return;
    }
    setBusy(true, t("sc.evaluating"));
    const user = auth.user();
    const res = await api("POST", "/v1/evaluations", { json: body, anonymous: !(user && user.role === "enterprise") });
    setBusy(false);
    if (!res.ok) { showErrors(res.problem, index); return; }
    last = { profile, index, body, result: res.data };
    window.HQResults.render(res.data, { onMissing: focusPath });
    const section = document.getElementById("sc-result");
    section.classList.remove("d-none");
    document.getElementById("sc-whatif").classList.add("d-none");
    form.querySelectorAll(".changed-field").forEach((i) => i.classList.remove("changed-field"));
    section.focus();
    section.scrollIntoView({ behavior: "instant", block: "start" });
    document.getElementById("sc-status").textContent = res.data.id ? t("sc.saved_eval", { id: res.data.id }) : t("sc.done");
    announce(t("sc.done"));
  }

  function focusPath(path) {
    const m = path.match(/^fiscal_years\[(\d{4})\](?:\.(\w+))?$/);
    let input = null;
    if (m) input = document.getElementById("f-fy-" + m[1] + "-" + (m[2] || "sales_revenue")) || document.querySelector('[data-fy="' + m[1] + '"]');
    else if (path.startsWith("projects[")) input = document.querySelector("[data-pj]");
    else input = form.querySelector('[data-path="' + CSS.escape(path) + '"]') || form.querySelector('[data-path^="' + CSS.escape(path) + '"]');
    if (m && !input) { extraYears.push(parseInt(m[1], 10)); buildFiscal(); input = document.querySelector('[data-fy="' + m[1] + '"]'); }
    if (input) { input.closest(".field").hidden = false; input.disabled = false; input.focus(); input.scrollIntoView({ block: "center" }); }
  }

  // ------------------------------------------------------------------ what-if: which outcomes flip

  /* a profile as flat what-if paths: fiscal_years[2024].rd_expense, projects[P1].category, ip.class_i_count */
  function flatten(profile) {
    const out = {};
    const walk = (obj, prefix) => {
      for (const [k, v] of Object.entries(obj || {})) {
        const path = prefix ? prefix + "." + k : k;
        if (k === "fiscal_years" && !prefix) v.forEach((fy) => { for (const [n, x] of Object.entries(fy)) if (n !== "year") out["fiscal_years[" + fy.year + "]." + n] = x; });
        else if (k === "projects" && !prefix) v.forEach((p) => { for (const [n, x] of Object.entries(p)) if (n !== "id") out["projects[" + p.id + "]." + n] = x; });
        else if (v && typeof v === "object") walk(v, path);
        else out[path] = v;
      }
    };
    walk(profile, "");
    return out;
  }

  function projectIds(profile) {
    return (profile.projects || []).map((p) => p.id).sort().join("\u0001");
  }

  function outcomeKey(r) { return r.measure_id + "|" + (r.subject && r.subject.id ? r.subject.id : ""); }

  function scheduleWhatIf() {
    if (!last) return;
    clearTimeout(whatIfTimer);
    whatIfTimer = setTimeout(whatIf, 350);
  }

  async function whatIf() {
    const seq = ++whatIfSeq;
    const { profile } = readProfile();
    const before = flatten(last.profile);
    const after = flatten(profile);
    const changes = [];
    for (const path of new Set([...Object.keys(before), ...Object.keys(after)])) {
      const a = before[path] === undefined ? null : before[path];
      const b = after[path] === undefined ? null : after[path];
      if (JSON.stringify(a) !== JSON.stringify(b)) changes.push({ path, value: b });
    }
    form.querySelectorAll("[data-path]").forEach((input) => input.classList.remove("changed-field"));
    const bar = document.getElementById("sc-whatif");
    const out = document.getElementById("sc-whatif-body");
    if (!changes.length && projectIds(profile) === projectIds(last.profile)) { bar.classList.add("d-none"); return; }
    for (const c of changes) {
      const m = c.path.match(/^fiscal_years\[(\d{4})\]\.(\w+)$/);
      const input = m ? document.getElementById("f-fy-" + m[1] + "-" + m[2]) : form.querySelector('[data-path="' + CSS.escape(c.path) + '"]');
      if (input) input.classList.add("changed-field");
    }
    bar.classList.remove("d-none");
    out.replaceChildren(el("span", { class: "text-body-secondary" }, t("wi.computing")));
    let flips = null;
    let problem = null;
    const structural = projectIds(profile) !== projectIds(last.profile) || changes.length > 50 || changes.some((c) => c.path.startsWith("certifications."));
    if (!structural) {
      const res = await api("POST", "/v1/evaluations/what-if", { anonymous: true, json: Object.assign({}, last.body, { profile: last.profile, changes }) });
      if (res.ok) flips = res.data.flips.map((f) => ({ title: f.title || f.measure_id, subject: f.subject, before: f.before, after: f.after, before_label: f.before_label, after_label: f.after_label }));
      else if (!(res.problem && String(res.problem.type || "").endsWith("/invalid-change"))) problem = res.problem;
    }
    if (!flips && !problem) {
      // a change the what-if paths cannot express (a project added or renamed): evaluate anew and compare
      const res = await api("POST", "/v1/evaluations", { anonymous: true, json: request(profile) });
      if (res.ok) {
        const old = new Map(last.result.results.map((r) => [outcomeKey(r), r]));
        flips = [];
        for (const r of res.data.results) {
          const o = old.get(outcomeKey(r));
          if (!o || o.outcome !== r.outcome) flips.push({ title: r.title, subject: r.subject, before: o ? o.outcome : null, after: r.outcome, before_label: o ? o.outcome_label : "—", after_label: r.outcome_label });
        }
      } else problem = res.problem;
    }
    if (seq !== whatIfSeq) return; // a later change has been answered already
    if (problem) {
      const why = problem.errors && problem.errors.length ? problem.errors.map((e) => oneLanguage(e.message)).join("；") : problem.detail || problemText(problem);
      out.replaceChildren(el("span", { class: "text-danger" }, t("wi.invalid") + " " + why));
      return;
    }
    if (!flips.length) {
      out.replaceChildren(el("span", { "data-flips": "0" }, t("wi.no_flip", { n: changes.length })));
      announce(t("wi.no_flip", { n: changes.length }));
      return;
    }
    out.replaceChildren(el("span", { class: "me-2 fw-semibold", "data-flips": String(flips.length) }, t("wi.flips", { n: flips.length })),
      ...flips.map((f) => el("span", { class: "flip", dataset: { flip: f.title } },
        f.title + (f.subject && f.subject.id ? "（" + f.subject.id + "）" : "") + "：",
        f.before ? window.HQ.outcomeBadge(f.before, f.before_label) : "—", " → ", f.after ? window.HQ.outcomeBadge(f.after, f.after_label) : "—")));
    announce(t("wi.flips", { n: flips.length }));
  }

  // ------------------------------------------------------------------ saved profiles (enterprise accounts)

  function fillForm(profile) {
    form.querySelectorAll("[data-path]:not([data-fy]):not([data-pj])").forEach((input) => {
      const v = input.dataset.path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), profile);
      input.value = v === undefined || v === null ? "" : String(v);
    });
    for (const fy of profile.fiscal_years || []) {
      fiscalValues[fy.year] = {};
      for (const [k, v] of Object.entries(fy)) if (k !== "year" && v !== null) fiscalValues[fy.year][k] = String(v);
      if (!yearsForAsOf().includes(fy.year)) extraYears.push(fy.year);
    }
    Object.keys(fiscalValues).forEach((y) => { if (!(profile.fiscal_years || []).some((fy) => String(fy.year) === String(y))) delete fiscalValues[y]; });
    // not saved from the inputs first: that wrote the empty inputs of the years on screen over the
    // loaded values, and a saved profile came back without its figures
    buildFiscal(false);
    document.getElementById("pj-list").replaceChildren();
    for (const p of profile.projects || []) addProject(p);
    applyVisibility();
  }

  async function saveProfile() {
    const user = auth.user();
    const { profile, index } = readProfile();
    clearErrors();
    const code = profile.credit_code || user.credit_code;
    const res = await api("PUT", "/v1/enterprises/" + encodeURIComponent(code) + "/profile", { json: profile });
    if (!res.ok) {
      const p = res.problem;
      if (p.errors) p.errors = p.errors.map((e) => Object.assign({}, e, { field: e.field.startsWith("profile") ? e.field : "profile." + e.field.replace(/^body\.?/, "") }));
      showErrors(p, index);
      return;
    }
    document.getElementById("sc-status").textContent = t("sc.saved_profile", { v: res.data.version });
    announce(t("sc.saved_profile", { v: res.data.version }));
  }

  async function loadProfile() {
    const user = auth.user();
    const res = await api("GET", "/v1/enterprises/" + encodeURIComponent(user.credit_code) + "/profile");
    if (!res.ok) { document.getElementById("sc-status").textContent = res.status === 404 ? t("sc.no_saved") : problemText(res.problem); return; }
    fillForm(res.data.profile);
    document.getElementById("sc-status").textContent = t("sc.loaded_profile", { v: res.data.version });
  }

  // ------------------------------------------------------------------ start

  buildPlainGroup("basic");
  buildPlainGroup("ip");
  buildPlainGroup("compliance");
  buildProjects();
  const params = new URLSearchParams(location.search);
  if (params.get("measures")) {
    const wanted = new Set(params.get("measures").split(","));
    form.querySelectorAll("input[name=measures]").forEach((i) => { i.checked = wanted.has(i.value); });
  }
  buildFiscal();

  form.addEventListener("submit", (e) => { e.preventDefault(); evaluate(); });
  form.addEventListener("reset", () => {
    setTimeout(() => { Object.keys(fiscalValues).forEach((k) => delete fiscalValues[k]); document.querySelectorAll("[data-fy]").forEach((i) => { i.value = ""; }); clearErrors(); scheduleWhatIf(); }, 0);
  });
  form.addEventListener("input", (e) => { if (e.target.matches("[data-path]")) scheduleWhatIf(); });
  form.addEventListener("change", (e) => {
    if (e.target.name === "measures") applyVisibility();
    else if (e.target === asOfInput) buildFiscal();
    else if (e.target.matches("[data-path]")) scheduleWhatIf();
  });
  document.getElementById("sc-all").addEventListener("click", () => { form.querySelectorAll("input[name=measures]").forEach((i) => { i.checked = true; }); applyVisibility(); });
  document.getElementById("sc-none").addEventListener("click", () => { form.querySelectorAll("input[name=measures]").forEach((i) => { i.checked = false; }); applyVisibility(); });
  document.getElementById("sc-reevaluate").addEventListener("click", evaluate);
  document.getElementById("sc-print").addEventListener("click", () => window.print());

  const user = auth.user();
  if (user && auth.token() && user.role === "enterprise") {
    const acct = document.getElementById("sc-account");
    acct.replaceChildren(t("sc.logged_in", { user: user.display_name || user.username, code: user.credit_code }), " ", el("a", { href: "/account" }, t("sc.see_history")));
    acct.classList.remove("d-none");
    const code = form.querySelector('[data-path="credit_code"]');
    if (code && !code.value) code.value = user.credit_code;
    ["sc-save", "sc-load"].forEach((id) => document.getElementById(id).classList.remove("d-none"));
    document.getElementById("sc-save").addEventListener("click", saveProfile);
    document.getElementById("sc-load").addEventListener("click", loadProfile);
    if (params.get("load") === "1") loadProfile();
  }
})();
