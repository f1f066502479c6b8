// After a check, move focus to the answer so keyboard and screen-reader users land on it.
(function () {
  "use strict";
  var result = document.getElementById("check-result");
  if (result) {
    result.focus();
  }
})();
