/* 惠企 huiqi — the audit log (administrators): who did what, when, before and after. */
(function () {
  "use strict";
  const { t, el, api, auth, problemText, fmtTime } = window.HQ;
  const user = auth.require(["admin", "reviewer"]);
  if (!user) return;
  const box = document.getElementById("audit-box");
  const json = (v) => (v === null || v === undefined ? "" : JSON.stringify(v, null, 1));

  async function load() {
    const res = await api("GET", window.HQDesk.EP.audit + "?limit=200");
    if (!res.ok) { box.replaceChildren(el("div", { class: "alert alert-warning" }, res.status === 403 ? t("audit.admin_only") : problemText(res.problem))); return; }
    if (!res.data.items.length) { box.replaceChildren(el("p", { class: "text-body-secondary" }, t("audit.empty"))); return; }
    box.replaceChildren(el("div", { class: "table-responsive bg-white" }, el("table", { class: "table table-sm align-top", id: "audit-table" },
      el("thead", {}, el("tr", {}, ["audit.when", "audit.who", "audit.action", "audit.target", "audit.change"].map((k) => el("th", { scope: "col" }, t(k))))),
      el("tbody", {}, res.data.items.map((a) => el("tr", { dataset: { action: a.action } },
        el("td", { class: "text-nowrap" }, fmtTime(a.at)),
        el("td", {}, a.actor + (a.actor_role ? "（" + t("role." + a.actor_role) + "）" : "")),
        el("td", {}, a.action_label || a.action),
        el("td", { class: "small" }, el("code", {}, (a.target_type || "") + " " + (a.target_id || ""))),
        el("td", {}, el("div", { class: "audit-json" }, a.before ? "− " + json(a.before) : "", a.before && a.after ? "\n" : "", a.after ? "+ " + json(a.after) : ""))))))));
  }
  load();
})();
