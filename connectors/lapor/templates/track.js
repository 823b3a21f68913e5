// Follows the case live: the server sends the steps' HTML (rendered and escaped by the
// server's templates) whenever a step is added; the browser reconnects on its own.
(function () {
  var section = document.getElementById("steps");
  if (!section || !window.EventSource) { return; }
  var source = new EventSource(section.getAttribute("data-stream"));
  source.addEventListener("steps", function (event) {
    section.innerHTML = event.data;
  });
})();
