/* Secret kinds on the Secrets tab [D18], on top of secrets.js (same-origin, no inline
   code). Every control works without it: each row's kind button is a submit button of the
   form `s-kd`, and `?select=1` renders the selection boxes (tabs/secrets_rows.py). This:

   - gives each live row a selection box (`sel`, of the form s-kd: 500 of them in the page
     would cost ~50 KB of the page's budget) and the table's header a "select all" box;
   - shows the bulk buttons ("Mark as plain", "Mark as secret") while rows are selected,
     with the count;
   - after a kind answer, whose value cells arrive out of band, keeps what a cell was
     showing when it was being edited or was a secret revealed on purpose (only its kind
     button changes), and gives the focus back to the kind button that had it.
*/
(function () {
  "use strict";

  function lf(text) {
    return text.replace(/\r\n?/g, "\n");
  }

  function boxes() {
    return document.querySelectorAll('#secrets-rows input[name="sel"]');
  }

  function countSelected() {
    var all = boxes();
    var chosen = 0;
    all.forEach(function (box) { if (box.checked) chosen++; });
    var group = document.querySelector("#secrets [data-marks]");
    if (group) {
      group.hidden = chosen === 0;
      var count = group.querySelector("[data-selected-count]");
      if (count) count.textContent = chosen + " selected";
    }
    var every = document.getElementById("s-all");
    if (every) {
      every.checked = chosen > 0 && chosen === all.length;
      every.indeterminate = chosen > 0 && chosen < all.length;
    }
  }

  function addBoxes() {
    var body = document.getElementById("secrets-rows");
    if (!body) return;
    body.querySelectorAll(':scope > tr > td:first-child > input[name^="k:"]').forEach(function (key) {
      var cell = key.parentNode;
      if (cell.querySelector('input[name="sel"]')) return; // ?select=1 made it already
      var name = key.name.slice(2);
      var box = document.createElement("input");
      box.type = "checkbox";
      box.setAttribute("form", "s-kd");
      box.name = "sel";
      box.value = name;
      box.setAttribute("aria-label", "Select " + name);
      cell.insertBefore(box, key);
    });
    var head = document.querySelector("#secrets .secrets-table thead th");
    if (head && boxes().length && !document.getElementById("s-all")) {
      var every = document.createElement("input");
      every.type = "checkbox";
      every.id = "s-all";
      every.setAttribute("aria-label", "Select all secrets");
      head.insertBefore(every, head.firstChild);
    }
    countSelected();
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.id === "s-all") {
      boxes().forEach(function (box) { box.checked = target.checked; });
      countSelected();
    } else if (target.name === "sel" && target.closest && target.closest("#secrets-rows")) {
      countSelected();
    }
  });

  /* -- kind answers ------------------------------------------------------------------------- */

  function isKinds(event) {
    return !!event.detail && !!event.detail.elt && event.detail.elt.id === "s-kd";
  }

  var kindFocus = null; // the name whose kind button had the focus when it was pressed

  function focusKind(name) {
    var cell = name && document.getElementById("v-" + name);
    var button = cell && cell.querySelector('button[form="s-kd"]');
    if (button) button.focus();
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (!isKinds(event)) return;
    var active = document.activeElement;
    var own = active && active.getAttribute("form") === "s-kd" && active.name !== "mark";
    kindFocus = own ? active.value : null;
  });

  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var detail = event.detail;
    var target = detail && detail.target;
    if (!target || !target.id || target.id.indexOf("v-") !== 0) return;
    var incoming = detail.fragment && detail.fragment.firstElementChild;
    if (!incoming || incoming.classList.contains("on")) return; // "Show all": secrets.js
    // A value being edited, or a secret revealed on purpose, stays; its kind button changes.
    var area = target.querySelector("textarea");
    var edited = !!area && lf(area.value) !== lf(area.defaultValue);
    var revealed = target.classList.contains("on") && !incoming.querySelector("textarea");
    if (!edited && !revealed) return;
    event.preventDefault();
    var fresh = incoming.querySelector('button[form="s-kd"]');
    var old = target.querySelector('button[form="s-kd"]');
    if (!fresh || !old) return;
    var focused = document.activeElement === old;
    old.replaceWith(fresh);
    if (focused) fresh.focus();
  });

  document.addEventListener("htmx:oobAfterSwap", function (event) {
    if (kindFocus && event.target && event.target.id === "v-" + kindFocus) focusKind(kindFocus);
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    if (!isKinds(event)) return;
    var name = kindFocus;
    kindFocus = null;
    var active = document.activeElement;
    if (name && (!active || active === document.body)) focusKind(name);
  });

  /* -- start, and again for every fragment htmx swaps in -------------------------------------- */

  document.addEventListener("DOMContentLoaded", addBoxes);
  document.addEventListener("htmx:load", function (event) {
    var target = event.target;
    if (target.closest && (target.id === "secrets" || target.closest("#secrets"))) addBoxes();
  });
})();
