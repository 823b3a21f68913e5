// Follows the case live: the server sends the steps' HTML (rendered and escaped by the
// server's templates) whenever a step is added; the browser reconnects on its own.
(function () {
  var section = document.getElementById("steps");
  if (!section || !window.EventSource) { return; }
  var source = new EventSource(section.getAttribute("data-stream"));
  var shown = section.innerHTML.trim();
  source.addEventListener("steps", function (event) {
    // The stream sends the steps on every (re)connection: replaced unchanged, the live
    // region would be read out again whole by a screen reader.
    if (event.data.trim() === shown) { return; }
    shown = event.data.trim();
    section.innerHTML = event.data;
  });
})();
