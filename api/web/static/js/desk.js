/* 惠企 huiqi — the screening desk: upload a file, follow the run, list the runs. */
(function () {
  "use strict";
  const { t, el, api, problemText, fmtTime, announce } = window.HQ;
  const { EP, download, showProgress, follow, requireBureau, DONE } = window.HQDesk;
  if (!requireBureau()) return;
  const formEl = document.getElementById("desk-upload");
  const errBox = document.getElementById("desk-upload-errors");
  const fileInput = document.getElementById("desk-file");
  document.getElementById("desk-as-of").value = new Date().toISOString().slice(0, 10);

  async function listRuns() {
    const box = document.getElementById("desk-runs");
    const res = await api("GET", EP.runs + "?limit=30");
    if (!res.ok) { box.replaceChildren(el("p", {}, problemText(res.problem))); return; }
    if (!res.data.items.length) { box.replaceChildren(el("p", { class: "text-body-secondary" }, t("desk.no_runs"))); return; }
    box.replaceChildren(el("div", { class: "table-responsive" }, el("table", { class: "table table-sm table-hover align-middle", id: "desk-runs-table" },
      el("thead", {}, el("tr", {}, ["desk.created", "desk.file_name", "desk.status", "desk.rows", "desk.bad_rows", ""].map((k) => el("th", { scope: "col" }, k ? t(k) : "")))),
      el("tbody", {}, res.data.items.map((r) => el("tr", { dataset: { run: r.id } },
        el("td", {}, fmtTime(r.created_at)),
        el("td", {}, r.title || r.filename || r.kind),
        el("td", {}, el("span", { class: "badge " + (DONE.includes(r.status) ? "text-bg-success" : r.status === "failed" ? "text-bg-danger" : "text-bg-secondary") }, r.status_label || r.status)),
        el("td", {}, String((r.progress || {}).rows_read ?? "")),
        el("td", {}, String((r.progress || {}).rows_invalid ?? "")),
        el("td", {}, el("a", { class: "btn btn-sm btn-outline-primary", href: "/desk/runs/" + encodeURIComponent(r.id) }, t("desk.open_run")))))))));
  }

  formEl.addEventListener("submit", async (e) => {
    e.preventDefault();
    errBox.classList.add("d-none");
    fileInput.classList.remove("is-invalid");
    if (!fileInput.files.length) {
      fileInput.classList.add("is-invalid");
      document.getElementById("desk-file-error").textContent = t("desk.file") + " ✱";
      fileInput.focus();
      return;
    }
    const data = new FormData();
    data.append("file", fileInput.files[0]);
    const asOf = document.getElementById("desk-as-of").value;
    if (asOf) data.append("as_of", asOf);
    const chosen = [...formEl.querySelectorAll("input[name=measures]:checked")].map((i) => i.value);
    const all = formEl.querySelectorAll("input[name=measures]").length;
    if (chosen.length && chosen.length < all) data.append("measures", chosen.join(","));
    document.getElementById("desk-start").disabled = true;
    const res = await api("POST", EP.runs, { body: data });
    document.getElementById("desk-start").disabled = false;
    if (!res.ok) {
      const errs = (res.problem.errors || []).slice(0, 20);
      errBox.replaceChildren(el("strong", {}, problemText(res.problem)),
        errs.length ? el("ul", { class: "mb-0 small" }, errs.map((x) => el("li", {}, [x.row ? t("desk.row") + " " + x.row : "", x.column || x.header || "", window.HQ.oneLanguage(x.message || x.reason)].filter(Boolean).join(" · ")))) : null);
      errBox.classList.remove("d-none");
      errBox.focus();
      return;
    }
    const run = res.data;
    const box = document.getElementById("desk-progress");
    const bar = document.getElementById("desk-progressbar");
    bar.dataset.seen = "";
    bar.dataset.run = "";
    bar.setAttribute("aria-valuenow", "0");
    box.classList.remove("d-none");
    const open = document.getElementById("desk-open-run");
    open.classList.add("d-none");
    open.href = "/desk/runs/" + encodeURIComponent(run.id);
    const final = await follow(run.id, (r, problem) => {
      if (r) showProgress(bar, document.getElementById("desk-progress-text"), r);
      else document.getElementById("desk-progress-text").textContent = problemText(problem);
    }, 250);
    if (final) {
      open.classList.remove("d-none");
      announce(final.status_label || final.status);
    }
    listRuns();
  });

  document.querySelectorAll("[data-template]").forEach((a) => a.addEventListener("click", async (e) => {
    e.preventDefault();
    await download(EP.template(a.dataset.template) + (document.getElementById("desk-as-of").value ? "?as_of=" + document.getElementById("desk-as-of").value : ""), "template." + a.dataset.template);
  }));
  listRuns();
})();
