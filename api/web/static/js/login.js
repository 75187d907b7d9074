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

  function destination(user) {
    const next = params.get("next");
    if (next && next.startsWith("/") && !next.startsWith("//")) return next;
    return user.role === "enterprise" ? "/account" : "/desk";
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
