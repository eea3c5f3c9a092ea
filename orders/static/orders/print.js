// The invoice's "Print or save as PDF" button: shown only when this script runs, since without
// it the button would do nothing (the browser's own print command still works).
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });
})();
