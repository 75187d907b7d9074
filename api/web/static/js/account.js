/* 惠企 huiqi — an enterprise's own page: its saved profile versions and its earlier checks. */
(function () {
  "use strict";
  const { t, el, api, auth, problemText, fmtTime, outcomeBadge } = window.HQ;
  const user = auth.require(["enterprise"]);
  if (!user) return;
  const code = user.credit_code;
  document.getElementById("acct-who").replaceChildren(el("p", { class: "mb-1" }, t("acct.who", { user: user.display_name || user.username, code })),
    el("a", { class: "btn btn-primary", href: "/self-check?load=1" }, t("acct.new_check")));

  async function profiles() {
    const box = document.getElementById("acct-profiles");
    const res = await api("GET", "/v1/enterprises/" + encodeURIComponent(code) + "/profile/versions?limit=20");
    if (!res.ok) { box.replaceChildren(el("p", {}, res.status === 404 ? t("sc.no_saved") : problemText(res.problem))); return; }
    if (!res.data.items.length) { box.replaceChildren(el("p", { class: "text-body-secondary" }, t("sc.no_saved"))); return; }
    box.replaceChildren(el("table", { class: "table table-sm bg-white" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("acct.version")), el("th", { scope: "col" }, t("acct.name")), el("th", { scope: "col" }, t("acct.saved_at")))),
      el("tbody", {}, res.data.items.map((v) => el("tr", {}, el("td", {}, "v" + v.version), el("td", {}, v.name || ""), el("td", {}, fmtTime(v.created_at)))))));
  }

  async function show(id) {
    const res = await api("GET", "/v1/evaluations/" + encodeURIComponent(id));
    const section = document.getElementById("acct-detail");
    if (!res.ok) { section.classList.remove("d-none"); document.getElementById("sc-cards").replaceChildren(el("p", {}, problemText(res.problem))); return; }
    window.HQResults.render(res.data);
    section.classList.remove("d-none");
    section.focus();
  }

  async function history() {
    const box = document.getElementById("acct-history");
    const res = await api("GET", "/v1/evaluations?limit=50&credit_code=" + encodeURIComponent(code));
    if (!res.ok) { box.replaceChildren(el("p", {}, problemText(res.problem))); return; }
    if (!res.data.items.length) { box.replaceChildren(el("p", { class: "text-body-secondary" }, t("acct.no_history"))); return; }
    box.replaceChildren(el("table", { class: "table table-sm table-hover bg-white", id: "acct-history-table" },
      el("thead", {}, el("tr", {}, ["acct.when", "sc.as_of", "acct.outcomes", "acct.open"].map((k) => el("th", { scope: "col" }, t(k))))),
      el("tbody", {}, res.data.items.map((ev) => el("tr", { dataset: { evaluation: ev.id } },
        el("td", {}, fmtTime(ev.created_at)),
        el("td", {}, ev.as_of),
        el("td", {}, Object.entries(ev.outcomes).map(([o, n]) => el("span", { class: "me-1" }, outcomeBadge(o, t("outcome." + o) + " " + n)))),
        el("td", {}, el("button", { type: "button", class: "btn btn-sm btn-outline-primary", onclick: () => show(ev.id) }, t("acct.open"))))))));
  }

  document.getElementById("acct-print").addEventListener("click", () => window.print());
  profiles();
  history();
})();
