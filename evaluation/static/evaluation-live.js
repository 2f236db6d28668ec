// Keeps each evaluation card on the page up to date: polls its JSON status every few seconds until the
// evaluation is final, and swaps in the card the server rendered (escaped HTML, no client-side templating).
(function () {
  "use strict";
  var INTERVAL_MS = 3000;

  function poll(card) {
    if (card.getAttribute("data-final") === "true") return;
    fetch(card.getAttribute("data-status-url"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        if (status) {
          if (card.getAttribute("data-state") !== status.state || status.state === "running" || status.queue_position) {
            card.innerHTML = status.html;
          }
          card.setAttribute("data-state", status.state);
          card.setAttribute("data-final", status.final ? "true" : "false");
        }
      })
      .catch(function () { /* a network blip: try again next time */ })
      .then(function () { window.setTimeout(function () { poll(card); }, INTERVAL_MS); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var cards = document.querySelectorAll("section.evaluation[data-status-url]");
    for (var i = 0; i < cards.length; i++) {
      window.setTimeout(poll.bind(null, cards[i]), INTERVAL_MS);
    }
  });
})();
