/* 惠企 huiqi — what every page shares: messages, the API client, the visitor's login. */
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("hq-config").textContent);
  const TOKEN_KEY = "huiqi.token";
  const USER_KEY = "huiqi.user";

  function t(key, vars) {
    let s = config.messages[key];
    if (s === undefined) s = key;
    if (vars) for (const [k, v] of Object.entries(vars)) s = s.split("{" + k + "}").join(String(v));
    return s;
  }

  /* el("div", {class: "x", onclick: fn}, child, "text") — text is always set as text, never as HTML */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
      else if (k === "class") node.className = v;
      // styles through the CSSOM: the pages' Content-Security-Policy refuses style attributes
      else if (k === "style") { if (typeof v === "string") node.style.cssText = v; else Object.assign(node.style, v); }
      else if (k === "text") node.textContent = v;
      else if (k === "dataset") Object.assign(node.dataset, v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  const auth = {
    token() { return sessionStorage.getItem(TOKEN_KEY); },
    user() { try { return JSON.parse(sessionStorage.getItem(USER_KEY) || "null"); } catch (e) { return null; } },
    set(token, user) { sessionStorage.setItem(TOKEN_KEY, token); sessionStorage.setItem(USER_KEY, JSON.stringify(user)); },
    clear() { sessionStorage.removeItem(TOKEN_KEY); sessionStorage.removeItem(USER_KEY); },
    /* send the visitor to the login page unless logged in with one of these roles */
    require(roles) {
      const u = auth.user();
      if (!auth.token() || !u || (roles && !roles.includes(u.role))) {
        const next = location.pathname + location.search;
        location.replace("/login?next=" + encodeURIComponent(next) + (u ? "&role=" + encodeURIComponent(u.role) : ""));
        return null;
      }
      return u;
    },
  };

  function withLang(path) {
    if (!path.startsWith("/v1")) return path;
    return path + (path.includes("?") ? "&" : "?") + "lang=" + config.lang;
  }

  /* the API: resolves to {ok, status, data, problem, response}; a problem is RFC 9457 problem+json */
  async function api(method, path, opts) {
    opts = opts || {};
    const headers = Object.assign({ Accept: "application/json", "Accept-Language": config.lang === "en" ? "en" : "zh-CN" }, opts.headers || {});
    const token = auth.token();
    if (token && !opts.anonymous) headers.Authorization = "Bearer " + token;
    let body = opts.body;
    if (opts.json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(opts.json); }
    if (opts.form) body = new URLSearchParams(opts.form);
    let response;
    try {
      response = await fetch(withLang(path), { method, headers, body });
    } catch (err) {
      return { ok: false, status: 0, problem: { title: t("err.network"), detail: String(err) } };
    }
    if (response.status === 401 && token && !opts.anonymous) {
      auth.clear();
      renderUser();
    }
    if (opts.raw) return { ok: response.ok, status: response.status, response };
    let data = null;
    const type = response.headers.get("content-type") || "";
    if (response.status !== 204 && type.includes("json")) data = await response.json();
    const result = { ok: response.ok, status: response.status, data, response };
    if (!response.ok) result.problem = data || { title: response.statusText, status: response.status };
    return result;
  }

  function announce(text) {
    const live = document.getElementById("hq-announce");
    live.textContent = "";
    setTimeout(() => { live.textContent = text; }, 30);
  }

  function outcomeBadge(outcome, label) {
    return el("span", { class: "badge badge-outcome outcome-" + outcome, dataset: { outcome } }, label || t("outcome." + outcome));
  }

  /* some messages come as "中文 / English": show the visitor's half */
  function oneLanguage(text) {
    const m = String(text || "").match(/^(.*[\u4e00-\u9fff].*?)\s*\/\s+([A-Za-z].*)$/s);
    if (!m) return text;
    return config.lang === "en" ? m[2] : m[1];
  }

  function problemText(p) {
    if (!p) return t("err.unknown");
    return [p.title, oneLanguage(p.detail)].filter(Boolean).join("：");
  }

  function fmtTime(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    if (isNaN(d)) return iso;
    return d.toLocaleString(config.lang === "en" ? "en-GB" : "zh-CN", { hour12: false });
  }

  function renderUser() {
    const box = document.getElementById("hq-user");
    if (!box) return;
    const u = auth.user();
    box.replaceChildren();
    if (!u || !auth.token()) {
      box.append(el("a", { class: "nav-link" + (config.page === "login" ? " active" : ""), href: "/login", "data-login-link": true }, t("nav.login")));
      return;
    }
    if (u.role === "enterprise") box.append(el("a", { class: "nav-link", href: "/account" }, t("nav.account")));
    if (u.role === "admin") box.append(el("a", { class: "nav-link", href: "/desk/audit" }, t("audit.title")));
    box.append(el("span", { class: "navbar-text text-white ms-lg-2 me-2", "data-user": u.username }, (u.display_name || u.username) + " · " + t("role." + u.role)));
    box.append(el("button", {
      type: "button", class: "btn btn-sm btn-outline-light", id: "hq-logout",
      onclick: async () => { await api("POST", "/v1/auth/logout"); auth.clear(); location.href = "/"; },
    }, t("nav.logout")));
  }

  /* keep the chosen language when a language link is followed (it carries only ?lang=) */
  document.querySelectorAll("[data-lang-switch]").forEach((a) => {
    const params = new URLSearchParams(location.search);
    params.set("lang", a.dataset.langSwitch);
    a.href = location.pathname + "?" + params.toString() + location.hash;
  });

  window.HQ = { config, t, el, api, auth, announce, outcomeBadge, problemText, oneLanguage, fmtTime, renderUser, lang: config.lang };
  renderUser();
})();
