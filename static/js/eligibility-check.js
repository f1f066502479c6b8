// The check page: the answer comes back in place (htmx) and the recent checks stay in step.
(function () {
  "use strict";

  // Move focus to the answer so keyboard and screen-reader users land on it.
  function focusAnswer() {
    var target =
      document.getElementById("check-result") ||
      document.querySelector("#check-panel [aria-invalid='true']");
    if (target) {
      target.focus();
    }
  }

  // The new line arrives at the top of the list: keep the list to its length and show it.
  function tidyRecentChecks() {
    var rows = document.getElementById("recent-checks-rows");
    if (!rows) {
      return;
    }
    var limit = parseInt(rows.getAttribute("data-limit"), 10) || 10;
    while (rows.rows.length > limit) {
      rows.deleteRow(-1);
    }
    var hasRows = rows.rows.length > 0;
    rows.closest(".table-responsive").hidden = !hasRows;
    document.getElementById("recent-checks-empty").hidden = hasRows;
  }

  focusAnswer();
  document.body.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.elt && event.detail.elt.id === "check-panel") {
      tidyRecentChecks();
      focusAnswer();
    }
  });
  // The server could not be reached: say so beside the button.
  document.body.addEventListener("htmx:sendError", function () {
    var message = document.getElementById("check-offline");
    if (message) {
      message.hidden = false;
    }
  });
})();
