// Bulk check page: tell the partner at once when the chosen file is too large, and keep a
// second click from uploading the same file twice. The server checks everything again.
(function () {
  "use strict";
  var form = document.querySelector("form[data-bulk-upload]");
  if (!form) {
    return;
  }
  var input = form.querySelector("input[type=file][data-max-bytes]");
  var button = form.querySelector("button[type=submit]");

  function checkSize() {
    if (!input) {
      return true;
    }
    var max = parseInt(input.getAttribute("data-max-bytes"), 10);
    var file = input.files && input.files[0];
    var message = file && max && file.size > max ? input.getAttribute("data-too-large-message") : "";
    input.setCustomValidity(message);
    if (message) {
      input.reportValidity();
    }
    return !message;
  }

  if (input) {
    input.addEventListener("change", checkSize);
  }
  form.addEventListener("submit", function (event) {
    if (!checkSize()) {
      event.preventDefault();
      return;
    }
    if (button) {
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
    }
  });
})();
