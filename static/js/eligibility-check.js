// The check page: the answer comes back in place (htmx) and the page around it keeps in step.
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

  // Mark the field the new answer is about (the server names it), and clear the others.
  // Each such field carries its feedback element and both descriptions in data-answer-*.
  function markFields() {
    var result = document.getElementById("check-result");
    var message = document.getElementById("check-result-message");
    var errorField = result ? result.getAttribute("data-error-field") : "";
    document.querySelectorAll("#check-panel [data-answer-field]").forEach(function (input) {
      var invalid = input.getAttribute("data-answer-field") === errorField;
      var describedBy = input.getAttribute(
        invalid ? "data-describedby-invalid" : "data-describedby"
      );
      var feedback = document.getElementById(input.getAttribute("data-answer-feedback"));
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
      if (feedback) {
        feedback.textContent = invalid && message ? message.textContent : "";
      }
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

  // The Tax ID field's label and hint name the chosen country's document (CNPJ, RFC, …);
  // the country list carries each country's wording (JSON in data-tax-id-labels / -hints).
  function wording(select, name, country) {
    try {
      return JSON.parse(select.getAttribute(name) || "{}")[country] || "";
    } catch (error) {
      return "";
    }
  }

  function nameTaxIdDocument(event) {
    var select = event.target;
    if (!select || select.id !== "id_country") {
      return;
    }
    var label = document.getElementById("tax_id-label");
    var hint = document.getElementById("tax_id-help");
    var labelText = wording(select, "data-tax-id-labels", select.value);
    var hintText = wording(select, "data-tax-id-hints", select.value);
    if (label && labelText) {
      label.textContent = labelText;
    }
    if (hint && hintText) {
      hint.textContent = hintText;
    }
  }

  focusAnswer();
  document.body.addEventListener("change", nameTaxIdDocument);
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
