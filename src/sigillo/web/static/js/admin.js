/* The Environments, Tokens, Access and Settings tabs: behaviour on top of app.js (served
   same-origin; the CSP allows no inline code). Every page works without it.

   input[data-inline-edit]   an inline rename (its form posts on change and on Enter):
                             Escape puts the saved value back (focus stays in the field;
                             leaving it then saves nothing)
   dialog[data-show-modal]   opened as a modal as soon as it is on the page, on load or
                             in a fragment htmx swapped in (the server renders it `open`,
                             so without script it shows in the page)
*/
(function () {
  "use strict";

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var input = event.target.closest && event.target.closest("input[data-inline-edit]");
    if (!input) return;
    event.preventDefault();
    input.value = input.defaultValue;
    input.select(); // focus stays on the field
  });

  function showModals(root) {
    var dialogs = [];
    if (root.matches && root.matches("dialog[data-show-modal]")) dialogs.push(root);
    if (root.querySelectorAll) {
      root.querySelectorAll("dialog[data-show-modal]").forEach(function (dialog) {
        dialogs.push(dialog);
      });
    }
    dialogs.forEach(function (dialog) {
      if (!dialog.isConnected || typeof dialog.showModal !== "function") return;
      if (dialog.matches(":modal")) return;
      if (dialog.open) dialog.close();
      dialog.showModal();
      var first = dialog.querySelector("[autofocus]") ||
        dialog.querySelector("input:not([type=hidden]), select, textarea");
      if (first) first.focus();
    });
  }

  document.addEventListener("DOMContentLoaded", function () { showModals(document); });
  document.addEventListener("htmx:load", function (event) { showModals(event.target); });
})();
