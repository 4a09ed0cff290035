/* Joinup join page: type the event code, check it exists, go to /e/CODE. */
"use strict";
(function () {
  var form = document.getElementById("join");
  var input = document.getElementById("code");
  var error = document.getElementById("code-error");
  var ALPHABET = /^[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{6}$/;

  function fail(text) {
    error.textContent = text;
    error.style.color = "var(--danger)";
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }

  function go(raw) {
    var code = raw.replace(/[\s-]/g, "").toUpperCase();
    if (!ALPHABET.test(code)) {
      fail("That doesn't look like an event code. It has six letters and numbers.");
      return;
    }
    error.textContent = "Checking…";
    error.style.color = "";
    fetch("/api/events/" + code, { headers: { Accept: "application/json" } })
      .then(function (r) {
        if (r.status === 404) fail("No event has the code " + code + ". Check the code on the screen.");
        else location.href = "/e/" + code;
      })
      .catch(function () { location.href = "/e/" + code; });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    go(input.value);
  });
  input.addEventListener("input", function () {
    input.removeAttribute("aria-invalid");
    error.textContent = "";
  });
  var fromQuery = new URLSearchParams(location.search).get("code");
  if (fromQuery) { input.value = fromQuery; go(fromQuery); }
})();
