// Keeps a draft of the report form's text in the tab, so that a send that fails on a weak
// connection (the request cut off, the page lost) does not lose what the reporter typed: the
// form is no-store, so a browser that goes back fetches it again empty. Only text fields and
// choices are kept, never a file, and never a field inside [data-private] (the reporter's
// name, contact and choice to be named): on a shared phone or a kiosk the next person to open
// the tab would see who reported, and a reporter must be safe from retaliation. The tab
// forgets the draft when it is closed, the page that shows the tracking code deletes it, so a
// report sent is never filled in again, and so does the form's "clear the draft" control.
(function () {
  var key = "kawal.lapor.draft";
  var tokenKey = "kawal.lapor.form_token";  // form.js's: a cleared form is a new report
  var store;
  try {
    store = window.sessionStorage;
    if (document.getElementById("tracking-code")) {  // sent: nothing to keep
      store.removeItem(key);
      return;
    }
  } catch (refused) {
    return;  // storage refused (a private window, a policy): the form works without a draft
  }
  var form = document.querySelector("form[data-draft]");
  if (!form) { return; }
  function kept(field) {
    var type = (field.type || "").toLowerCase();
    return field.name && type !== "file" && type !== "hidden" && type !== "submit" &&
      field.name !== "kept_evidence" && !field.closest("[data-private]");
  }
  function save() {
    var draft = {};
    for (var i = 0; i < form.elements.length; i++) {
      var field = form.elements[i];
      if (kept(field)) {
        draft[field.name] = field.type === "checkbox" ? field.checked : field.value;
      }
    }
    try { store.setItem(key, JSON.stringify(draft)); } catch (full) { /* kept as it was */ }
  }
  function restore() {
    var draft;
    try { draft = JSON.parse(store.getItem(key) || "null"); } catch (broken) { return; }
    if (!draft || typeof draft !== "object") { return; }
    for (var i = 0; i < form.elements.length; i++) {
      var field = form.elements[i];
      if (!kept(field) || !Object.prototype.hasOwnProperty.call(draft, field.name)) { continue; }
      var value = draft[field.name];
      if (field.type === "checkbox") {
        field.checked = value === true;
      } else if (typeof value === "string") {
        field.value = value;
        if (field.tagName === "SELECT" && field.value !== value) { field.selectedIndex = 0; }
      }
    }
  }
  // A form the portal sent back already holds what was sent: it is the draft from now on.
  if (form.getAttribute("data-draft") === "fresh") { restore(); }
  save();  // also rewrites a draft an older page kept, without the reporter's fields
  form.addEventListener("input", save);
  form.addEventListener("change", save);
  var controls = document.getElementById("draft-controls");
  var clear = document.getElementById("clear-draft");
  if (!controls || !clear) { return; }
  controls.hidden = false;  // of use only with this script: hidden without it
  clear.addEventListener("click", function () {
    if (!window.confirm(clear.getAttribute("data-confirm"))) { return; }
    try { store.removeItem(key); store.removeItem(tokenKey); } catch (refused) { /* gone */ }
    form.removeEventListener("input", save);
    form.removeEventListener("change", save);
    // The empty form, in place of this one: Back does not bring the filled one again.
    window.location.replace(clear.getAttribute("data-empty"));
  });
})();
