// Keeps the form's token through the back button. A browser that fetches the form again on
// going back (the page is not stored: it may hold what the reporter typed) renders a new
// token, and the same report sent again would become a second one with a second code. The
// token names no one; the tab forgets it when it is closed. Without this script the portal
// works as before: only a form the browser restores keeps its token.
(function () {
  var field = document.querySelector("input[name=form_token]");
  var key = "kawal.lapor.form_token";
  if (!field || !window.sessionStorage) { return; }
  try {
    var kept = window.sessionStorage.getItem(key);
    if (kept && /^[A-Za-z0-9_-]{24}$/.test(kept)) {
      field.value = kept;
    } else {
      window.sessionStorage.setItem(key, field.value);
    }
  } catch (refused) {
    // Storage refused (a private window, a policy): the server's token stays.
  }
})();
