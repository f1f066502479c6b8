// The check page: the answer comes back in place (htmx) and the page around it keeps in step.
(function () {
  "use strict";

  // The fields an answer can be about, and how each is described when it is, or is not.
  var FIELDS = {
    country: {
      input: "id_country",
      feedback: "country-answer",
      invalidDescribedBy: "country-answer check-result-message",
      describedBy: "",
    },
    tax_id: {
      input: "id_tax_id",
      feedback: "tax_id-answer",
      invalidDescribedBy: "tax_id-answer check-result-message tax_id-help",
      describedBy: "tax_id-help",
    },
  };

  // Move focus to the answer so keyboard and screen-reader users land on it.
  function focusAnswer() {
    var target =
      document.getElementById("check-result") ||
      document.querySelector("#check-panel [aria-invalid='true']");
    if (target) {
      target.focus();
    }
  }

  // Mark the field the new answer is about (the server names it), and clear the others.
  function markFields() {
    var result = document.getElementById("check-result");
    var message = document.getElementById("check-result-message");
    var errorField = result ? result.getAttribute("data-error-field") : "";
    Object.keys(FIELDS).forEach(function (name) {
      var field = FIELDS[name];
      var input = document.getElementById(field.input);
      var feedback = document.getElementById(field.feedback);
      if (!input || !feedback) {
        return;
      }
      var invalid = name === errorField;
      var describedBy = invalid ? field.invalidDescribedBy : field.describedBy;
      input.classList.toggle("is-invalid", invalid);
      if (invalid) {
        input.setAttribute("aria-invalid", "true");
      } else {
        input.removeAttribute("aria-invalid");
      }
      if (describedBy) {
        input.setAttribute("aria-describedby", describedBy);
      } else {
        input.removeAttribute("aria-describedby");
      }
      feedback.textContent = invalid && message ? message.textContent : "";
    });
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
    var swapped = event.detail.elt ? event.detail.elt.id : "";
    if (swapped === "check-answer") {
      markFields();
    }
    if (swapped === "check-answer" || swapped === "check-panel") {
      tidyRecentChecks();
      focusAnswer();
    }
  });
  // The server could not be reached: say so beside the button, until the next try.
  function showOffline(shown) {
    var message = document.getElementById("check-offline");
    if (message) {
      message.hidden = !shown;
    }
  }
  document.body.addEventListener("htmx:beforeRequest", function () {
    showOffline(false);
  });
  document.body.addEventListener("htmx:sendError", function () {
    showOffline(true);
  });
})();
