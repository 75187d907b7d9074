/* 惠企 huiqi — password login: POST /v1/auth/token; the token is kept for this browser tab only. */
(function () {
  "use strict";
  const { t, api, auth, problemText } = window.HQ;
  const formEl = document.getElementById("login-form");
  const errorBox = document.getElementById("login-error");
  const params = new URLSearchParams(location.search);
  if (params.get("role")) {
    errorBox.textContent = t("login.wrong_role", { role: t("role." + params.get("role")) });
    errorBox.classList.remove("d-none");
  }

  // only a page of this site: "next" is resolved the way the browser would resolve it (a
  // backslash, a tab or a second slash can make "/…" another host) and kept only if it stays here
  function sameOrigin(next) {
    if (!next) return null;
    try {
      const url = new URL(next, location.origin);
      if (url.origin !== location.origin) return null;
      return url.pathname + url.search + url.hash;
    } catch (e) {
      return null;
    }
  }

  function destination(user) {
    return sameOrigin(params.get("next")) || (user.role === "enterprise" ? "/account" : "/desk");
  }

  formEl.addEventListener("submit", async (e) => {
    e.preventDefault();
    errorBox.classList.add("d-none");
    const username = document.getElementById("login-username");
    const password = document.getElementById("login-password");
    for (const input of [username, password]) input.classList.toggle("is-invalid", !input.value);
    if (!username.value || !password.value) {
      errorBox.textContent = t("login.required");
      errorBox.classList.remove("d-none");
      (username.value ? password : username).focus();
      return;
    }
    document.getElementById("login-submit").disabled = true;
    const res = await api("POST", "/v1/auth/token", { anonymous: true, form: { username: username.value, password: password.value } });
    document.getElementById("login-submit").disabled = false;
    if (!res.ok) {
      errorBox.textContent = problemText(res.problem);
      errorBox.classList.remove("d-none");
      password.value = "";
      password.focus();
      return;
    }
    auth.set(res.data.access_token, res.data.user);
    location.href = destination(res.data.user);
  });
})();
