/* 惠企 huiqi — filter the catalogue as you type. */
(function () {
  "use strict";
  const { t } = window.HQ;
  const q = document.getElementById("cat-q");
  const issuer = document.getElementById("cat-issuer");
  const prov = document.getElementById("cat-prov");
  const cards = [...document.querySelectorAll("[data-measure]")];
  function apply() {
    const words = q.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const card of cards) {
      const text = card.textContent.toLowerCase();
      const ok = words.every((w) => text.includes(w)) &&
        (!issuer.value || card.dataset.issuer === issuer.value) &&
        (!prov.checked || card.dataset.provisional === "yes");
      card.hidden = !ok;
      const toc = document.querySelector('[data-toc="' + card.dataset.measure + '"]');
      if (toc) toc.hidden = !ok;
      if (ok) shown++;
    }
    document.getElementById("cat-count").textContent = t("cat.showing", { n: shown, total: cards.length });
  }
  [q, issuer, prov].forEach((x) => x.addEventListener("input", apply));
  document.getElementById("cat-filter").addEventListener("submit", (e) => e.preventDefault());
  apply();
})();
