/* 惠企 huiqi — the screening desk's use of the API (GET/POST /v1/screenings…, /v1/audit), in one place. */
(function () {
  "use strict";
  const { t, el, api, auth } = window.HQ;
  const enc = encodeURIComponent;
  const EP = {
    runs: "/v1/screenings",
    run: (id) => "/v1/screenings/" + enc(id),
    results: (id) => "/v1/screenings/" + enc(id) + "/results",
    errors: (id) => "/v1/screenings/" + enc(id) + "/errors",
    row: (id, row) => "/v1/screenings/" + enc(id) + "/rows/" + row,
    decide: (id, row) => "/v1/screenings/" + enc(id) + "/rows/" + row + "/decisions",
    decisions: (id) => "/v1/screenings/" + enc(id) + "/decisions",
    report: (id) => "/v1/screenings/" + enc(id) + "/report",
    exportFile: (id, fmt) => "/v1/screenings/" + enc(id) + "/export?format=" + fmt,
    impactCreate: (id) => "/v1/screenings/" + enc(id) + "/impact",
    impact: (id) => "/v1/screenings/" + enc(id) + "/impact",
    template: (fmt) => "/v1/screenings/templates/" + fmt,
    audit: "/v1/audit",
  };
  const DONE = ["done", "completed", "finished"];
  const FAILED = ["failed", "cancelled"];

  /* fetch a file with the visitor's token and hand it to the browser as a download */
  async function download(path, fallback) {
    const res = await api("GET", path, { raw: true });
    if (!res.ok) {
      const body = await res.response.json().catch(() => null);
      return { ok: false, problem: body || { title: res.response.statusText } };
    }
    const blob = await res.response.blob();
    const cd = res.response.headers.get("content-disposition") || "";
    const m = cd.match(/filename\*=UTF-8''([^;]+)/i) || cd.match(/filename="?([^";]+)"?/i);
    const name = m ? decodeURIComponent(m[1]) : fallback;
    const url = URL.createObjectURL(blob);
    const a = el("a", { href: url, download: name, class: "d-none" });
    document.body.append(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(url); a.remove(); }, 2000);
    return { ok: true, name };
  }

  /* the progress bar of a run; every percentage shown is kept in data-seen (the tests read it) */
  function showProgress(bar, textEl, run) {
    const p = run.progress || {};
    const done = DONE.includes(run.status);
    let pct = done ? 100 : Math.max(0, Math.min(100, Math.floor(p.percent || 0)));
    // while the file is still being read the total grows, so the share can dip: the bar never goes back
    const shown = parseInt(bar.getAttribute("aria-valuenow") || "0", 10);
    if (bar.dataset.run === run.id && pct < shown) pct = shown;
    bar.dataset.run = run.id;
    bar.setAttribute("aria-valuenow", String(pct));
    bar.setAttribute("aria-valuetext", pct + "%");
    const seen = (bar.dataset.seen ? bar.dataset.seen.split(",") : []);
    if (seen[seen.length - 1] !== String(pct)) seen.push(String(pct));
    bar.dataset.seen = seen.join(",");
    bar.dataset.status = run.status;
    const inner = bar.querySelector(".progress-bar");
    inner.style.width = pct + "%";
    inner.textContent = pct + "%";
    inner.classList.toggle("progress-bar-animated", !done && !FAILED.includes(run.status));
    inner.classList.toggle("bg-success", done);
    inner.classList.toggle("bg-danger", FAILED.includes(run.status));
    const bits = [run.status_label || run.status, t("desk.progress_text", { done: p.rows_done || 0, total: p.rows_total || 0 })];
    if (p.rows_invalid) bits.push(t("desk.bad_rows") + " " + p.rows_invalid);
    if (p.rate_per_second) bits.push(t("desk.rate", { rate: p.rate_per_second }));
    if (p.seconds_left && !done) bits.push(t("desk.eta", { s: Math.ceil(p.seconds_left) }));
    textEl.textContent = bits.join(" · ");
  }

  /* poll a run until it is done or failed; onUpdate gets every state */
  async function follow(runId, onUpdate, interval) {
    for (;;) {
      const res = await api("GET", EP.run(runId));
      if (!res.ok) { onUpdate(null, res.problem); return null; }
      onUpdate(res.data);
      if (DONE.includes(res.data.status) || FAILED.includes(res.data.status)) return res.data;
      await new Promise((r) => setTimeout(r, interval || 400));
    }
  }

  function requireBureau() { return auth.require(["reviewer", "admin"]); }

  window.HQDesk = { EP, DONE, FAILED, download, showProgress, follow, requireBureau };
})();
