/* The Secrets tab's behaviour, on top of app.js and htmx (same-origin, no inline code).
   Every control also works without it (plain forms and links, see tabs/secrets.py); this
   makes the table feel like an editor:

   - rows changed since the page came are marked "unsaved", the Save button counts them
     ("Save 3 secrets") and the dialogs count the environments chosen;
   - a missing key that a rename or a new row now provides stops being missing;
   - "Add Secret" adds a blank row; its trash button removes it again;
   - "Hide value" / "Hide all" put the mask back in the browser (no request: the value
     simply leaves the page);
   - the trash button of a row opens the delete dialog for that name;
   - "Copy as .env" POSTs for the saved values and puts them on the clipboard;
   - Save sends only the keys and values that changed, marks those rows "Saving…"
     while the request runs, and the fresh table marks them "saved";
   - "Show all" does not overwrite a value already revealed (and maybe being edited);
   - a refusal the server retargets (422, 404, 409, 413) is shown where it points, not
     as a generic error toast;
   - focus never falls to <body> when a fragment replaces the focused control (issue 21):
     Reveal -> "Hide value", Hide -> Reveal, Save/delete -> the saved row's key, dismissing
     the CLI banner -> what came after it; the page's live region (#toast) says what
     happened ("Value of X shown", "All values shown", the save's notice);
   - the sticky Save bar never covers the focused element (--sticky-bottom, app.css).

   Kinds (the selection boxes, the bulk buttons, kind answers) are secret_kinds.js.
*/
(function () {
  "use strict";

  function lf(text) {
    return text.replace(/\r\n?/g, "\n");
  }

  function rowsBody() {
    return document.getElementById("secrets-rows");
  }

  function say(message, isError) {
    // The page's one live region (#toast, app.js).
    if (window.sigillo && window.sigillo.announce) window.sigillo.announce(message, isError);
  }

  /* -- what changed ---------------------------------------------------------------------- */

  function keyInput(tr) {
    return tr.querySelector('input[name^="k:"]');
  }

  function original(input) {
    return input.name.slice(2);
  }

  function rowChanged(tr) {
    if (tr.classList.contains("new")) {
      var key = tr.querySelector('input[name^="nk"]');
      var value = tr.querySelector('textarea[name^="nv"]');
      return !!(key && value && key.value.trim() && value.value.trim());
    }
    if (tr.classList.contains("missing")) {
      var typed = tr.querySelector('textarea[name^="m:"]');
      return !!(typed && !typed.disabled && typed.value.trim());
    }
    var input = keyInput(tr);
    if (!input) return false;
    if (input.value.trim() !== original(input)) return true;
    var area = tr.querySelector('textarea[name^="v:"]');
    return !!area && lf(area.value) !== lf(area.defaultValue);
  }

  function setState(tr, text) {
    var cell = tr.cells[0];
    if (!cell) return;
    var tag = cell.querySelector(".tag.state");
    if (!text) {
      if (tag) tag.remove();
      return;
    }
    if (!tag) {
      tag = document.createElement("span");
      tag.className = "tag state";
      cell.appendChild(tag);
    }
    tag.textContent = text;
  }

  function plural(count, word) {
    return count + " " + word + (count === 1 ? "" : "s");
  }

  function countLabels(scope) {
    scope.querySelectorAll("[data-count-label]").forEach(function (button) {
      var dialog = button.closest("dialog");
      var count = dialog ? dialog.querySelectorAll(".env-choices input:checked").length : 0;
      var label = button.getAttribute("data-count-label").replace("#", String(count));
      button.textContent = label + (count === 1 ? "" : "s");
      if (dialog && dialog.id === "delete-dialog") button.disabled = count === 0;
    });
  }

  function refresh() {
    var body = rowsBody();
    if (!body) return;
    var count = 0;
    var provided = {};
    body.querySelectorAll(":scope > tr").forEach(function (tr) {
      if (tr.classList.contains("missing") || tr.classList.contains("empty-row")) return;
      var changed = rowChanged(tr);
      if (changed) count++;
      var isNew = tr.classList.contains("new");
      var input = isNew ? tr.querySelector('input[name^="nk"]') : keyInput(tr);
      if (input && input.value.trim()) provided[input.value.trim()] = true;
      if (isNew) return;
      tr.classList.toggle("changed", changed);
      if (changed && tr.classList.contains("saved")) {
        tr.classList.remove("saved");
        var saved = tr.cells[0].querySelector(".tag:not(.state)");
        if (saved) saved.remove();
      }
      if (!tr.hasAttribute("data-saving")) setState(tr, changed ? "unsaved" : "");
    });
    body.querySelectorAll(":scope > tr.missing").forEach(function (tr) {
      var covered = !!provided[tr.getAttribute("data-name")];
      var area = tr.querySelector("textarea");
      tr.hidden = covered;
      if (area) area.disabled = covered;
      var changed = !covered && rowChanged(tr);
      tr.classList.toggle("changed", changed);
      if (changed) count++;
    });
    var save = document.getElementById("save-button");
    if (save) {
      save.textContent = count ? "Save " + plural(count, "secret") : "Save";
      save.disabled = count === 0;
    }
    countLabels(document);
  }

  var scheduled = false;

  function schedule() {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(function () {
      scheduled = false;
      refresh();
    });
  }

  /* -- rows and cells ------------------------------------------------------------------------ */

  function addRow() {
    var template = document.getElementById("s-new-row");
    var body = rowsBody();
    if (!template || !body) return;
    var empty = body.querySelector(".empty-row");
    if (empty) empty.remove();
    var next = 0;
    body.querySelectorAll('input[name^="nk"]').forEach(function (input) {
      next = Math.max(next, parseInt(input.name.slice(2), 10) + 1 || 0);
    });
    var row = template.content.firstElementChild.cloneNode(true);
    row.querySelector("input").name = "nk" + next;
    row.querySelector("textarea").name = "nv" + next;
    row.querySelector('input[type="checkbox"]').name = "np" + next;
    body.appendChild(row);
    row.querySelector("input").focus();
    refresh();
  }

  function hide(cell) {
    var template = document.getElementById("s-masked");
    if (!template || !cell || !cell.id) return;
    var name = cell.id.slice(2);
    var area = cell.querySelector("textarea");
    var masked = template.content.firstElementChild.cloneNode(true);
    masked.id = cell.id;
    masked.querySelector('button[form="s-kd"]').value = name;
    var button = masked.querySelector('button[form="s-rv"]');
    button.value = name;
    if (area && area.defaultValue === "") button.classList.add("empty");
    var hadFocus = cell.contains(document.activeElement);
    cell.replaceWith(masked);
    if (window.htmx) window.htmx.process(masked);
    if (hadFocus) button.focus(); // Hide value -> the Reveal button that took its place
    schedule();
  }

  function openDelete(button) {
    var dialog = document.getElementById("delete-dialog");
    if (!dialog || typeof dialog.showModal !== "function") return false;
    document.getElementById("delete-name").value = button.value;
    document.getElementById("delete-label").textContent = button.value;
    dialog.querySelectorAll(".env-choices input").forEach(function (box) {
      box.checked = box.hasAttribute("data-current");
    });
    var error = document.getElementById("delete-error");
    if (error) error.textContent = "";
    countLabels(dialog);
    if (!dialog.open) dialog.showModal();
    return true;
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!target.closest || !target.closest("#secrets")) return;
    var remove = target.closest("[data-remove-row]");
    var trash = target.closest('button[form="s-del"]');
    var hideLink = target.closest("a[data-hide]");
    if (trash && openDelete(trash)) {
      event.preventDefault();
    } else if (target.closest("[data-add-row]")) {
      event.preventDefault();
      addRow();
    } else if (remove) {
      remove.closest("tr").remove();
      refresh();
    } else if (hideLink) {
      event.preventDefault();
      var cell = hideLink.closest("td");
      hide(cell);
      say("Value of " + cell.id.slice(2) + " hidden");
    } else if (target.closest("a[data-hide-all]")) {
      event.preventDefault();
      document.querySelectorAll("#secrets-rows td.on").forEach(hide);
      say("All values hidden");
    }
  });

  document.addEventListener("input", function (event) {
    var target = event.target;
    if (!target.closest) return;
    if (target.name === "text" && target.closest("#import-form")) {
      var preview = document.getElementById("import-preview");
      if (preview) preview.textContent = ""; // the preview was of other text
    } else if (target.closest("#secrets-form")) {
      schedule();
    }
  });

  document.addEventListener("change", function (event) {
    if (event.target.closest && event.target.closest(".env-choices")) countLabels(document);
  });

  // Enter in a key input submits through the Save button (it opens the dialog): count the
  // changes first, so a key typed a moment ago already enables it.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === "Enter" && target.tagName === "INPUT" && target.closest("#secrets-form")) {
      refresh();
    }
  });

  /* -- Copy as .env ------------------------------------------------------------------------ */

  function toClipboard(text) {
    var clipboard = navigator.clipboard;
    if (clipboard && window.isSecureContext && window.ClipboardItem && clipboard.write) {
      // The promise keeps the click's permission to write while the request runs.
      var blob = text.then(function (value) { return new Blob([value], { type: "text/plain" }); });
      return clipboard.write([new window.ClipboardItem({ "text/plain": blob })]);
    }
    return text.then(function (value) {
      if (clipboard && window.isSecureContext) return clipboard.writeText(value);
      var area = document.createElement("textarea");
      area.value = value;
      area.className = "copy-buffer";
      document.body.appendChild(area);
      area.select();
      var done = document.execCommand("copy");
      area.remove();
      if (!done) throw new Error("copy refused");
      return undefined;
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.id !== "s-cp" || !window.fetch || event.defaultPrevented) return;
    event.preventDefault();
    var text = fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin",
    }).then(function (response) {
      if (!response.ok) throw new Error("status " + response.status);
      return response.text();
    });
    toClipboard(text).then(function () {
      say("Copied the saved values as .env.");
    }, function () {
      say("Could not copy. Use Download .env instead.", true);
    });
  });

  /* -- htmx: Save, Show all, refusals ------------------------------------------------------- */

  function isTable(event) {
    return !!event.detail && !!event.detail.elt && event.detail.elt.id === "secrets-form";
  }

  document.addEventListener("htmx:configRequest", function (event) {
    if (!isTable(event)) return;
    var parameters = event.detail.parameters;
    document.querySelectorAll('#secrets-rows input[name^="k:"]').forEach(function (input) {
      if (input.value.trim() === original(input)) delete parameters[input.name];
    });
    document.querySelectorAll('#secrets-rows textarea[name^="v:"]').forEach(function (area) {
      if (lf(area.value) === lf(area.defaultValue)) delete parameters[area.name];
    });
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (!isTable(event)) return;
    document.querySelectorAll("#secrets-rows > tr").forEach(function (tr) {
      if (!rowChanged(tr)) return;
      tr.setAttribute("data-saving", "");
      setState(tr, "Saving…");
    });
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    if (!isTable(event) || !event.detail.failed) return;
    document.querySelectorAll("#secrets-rows > tr[data-saving]").forEach(function (tr) {
      tr.removeAttribute("data-saving");
      setState(tr, tr.classList.contains("new") ? "" : "unsaved");
    });
    refresh();
  });

  // "Show all" leaves a value already revealed (and maybe being edited) as it is. Kind
  // answers swap cells too: secret_kinds.js decides for those.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    var incoming = event.detail.fragment && event.detail.fragment.firstElementChild;
    if (!target || !target.classList || !target.classList.contains("on")) return;
    if (incoming && incoming.classList.contains("on")) event.preventDefault();
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    var xhr = detail && detail.xhr;
    if (!xhr || xhr.status < 400 || !xhr.getResponseHeader("HX-Retarget")) return;
    if (detail.elt && detail.elt.closest && detail.elt.closest("#secrets")) {
      detail.shouldSwap = true;
      detail.isError = false;
    }
  });

  /* -- focus and status after a swap -------------------------------------------------------- */

  // Reveal: focus goes to the revealed cell's "Hide value" (its textarea for a plain value),
  // and the live region says so. "Show all" (no swap of its own) says so too.
  function revealedName(event) {
    var detail = event.detail;
    var source = detail && detail.requestConfig && detail.requestConfig.elt;
    if (!source || source.id !== "s-rv" || !detail.xhr) return null;
    var target = detail.xhr.getResponseHeader("HX-Retarget") || "";
    return target.indexOf("#v-") === 0 ? target.slice(3) : null;
  }

  function firstFocusable(root) {
    if (!root) return null;
    var all = root.querySelectorAll("a[href], button, input:not([type=hidden]), textarea, select");
    for (var i = 0; i < all.length; i++) {
      var element = all[i];
      if (!element.disabled && !element.closest("dialog, template, [hidden]") &&
        element.getClientRects().length > 0) return element;
    }
    return null;
  }

  var swapped = null; // what a swap inside #secrets replaced, for htmx:afterSettle

  document.addEventListener("htmx:afterSwap", function (event) {
    var name = revealedName(event);
    if (name !== null) {
      swapped = { reveal: name };
      return;
    }
    if (event.detail && event.detail.target && event.detail.target.id === "secrets") {
      swapped = { table: true };
    }
  });

  document.addEventListener("htmx:afterSettle", function () {
    var done = swapped;
    swapped = null;
    if (!done) return;
    var active = document.activeElement;
    var lost = !active || active === document.body || !active.isConnected;
    if (done.reveal !== undefined) {
      var cell = document.getElementById("v-" + done.reveal);
      if (!cell) return;
      say("Value of " + done.reveal + " shown");
      if (lost || cell.contains(active)) {
        var next = cell.querySelector("a[data-hide]") || cell.querySelector("textarea");
        if (next) next.focus();
      }
      return;
    }
    if (!lost) return;
    // Save, delete, import, sync: the key of the first row just saved, else the table's
    // first key, else its first control, else "Add Secret".
    var saved = document.querySelector('#secrets-rows > tr.saved input[name^="k:"]');
    var first = document.querySelector('#secrets-rows input[name^="k:"]');
    var target = saved || first || firstFocusable(rowsBody()) ||
      document.querySelector("#secrets [data-add-row]");
    if (target) target.focus();
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    if (elt && elt.id === "s-ra" && event.detail.successful) say("All values shown");
  });

  // Dismissing the CLI banner removes it (and the button that had focus): focus goes to
  // what came after it. The swap's own events fire on the removed banner, out of the
  // document, so this looks before the swap.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || target.id !== "cli-banner" || !event.detail.shouldSwap) return;
    setTimeout(function () {
      var active = document.activeElement;
      if (active && active !== document.body && active.isConnected) return;
      var first = firstFocusable(document.getElementById("secrets"));
      if (first) first.focus();
    }, 0);
  });

  /* -- start, and again for every fragment htmx swaps in --------------------------------------- */

  function init() {
    // A plain request's answer may come with a dialog open: make it a real modal.
    document.querySelectorAll("#secrets dialog[open]").forEach(function (dialog) {
      if (typeof dialog.showModal === "function" && !dialog.matches(":modal")) {
        dialog.close();
        dialog.showModal();
      }
    });
    schedule();
  }

  // The sticky Save bar: --sticky-bottom on <html> is its height while it sticks (zoom and
  // narrow windows wrap it to several lines), so focus never lands under it (app.css).
  var observed = null;
  var sizes = window.ResizeObserver ? new ResizeObserver(function () { stickyRoom(); }) : null;

  function stickyRoom() {
    var bar = document.querySelector("#secrets .secrets-bar");
    var root = document.documentElement;
    if (sizes && bar !== observed) {
      if (observed) sizes.unobserve(observed);
      if (bar) sizes.observe(bar);
      observed = bar;
    }
    if (!bar || !bar.isConnected || getComputedStyle(bar).position !== "sticky") {
      root.style.removeProperty("--sticky-bottom");
      return;
    }
    root.style.setProperty("--sticky-bottom", Math.ceil(bar.getBoundingClientRect().height) + 8 + "px");
  }

  window.addEventListener("resize", stickyRoom);
  document.addEventListener("DOMContentLoaded", stickyRoom);
  document.addEventListener("htmx:afterSettle", stickyRoom);

  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:load", function (event) {
    if (event.target.closest && (event.target.id === "secrets" || event.target.closest("#secrets"))) {
      init();
    }
  });
})();
