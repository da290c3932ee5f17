/* Sigillo dashboard behaviour. Served same-origin (the CSP allows no inline script or
   handler), driven by data- attributes, with event delegation so that fragments htmx
   swaps in behave like the page around them. Every page works without it; this makes
   them nicer:

   select[data-theme-select]     theme System / Light / Dark: cookie `color-theme`
                                 (one year; removed for System) and the <html> class
   [data-copy="text"]            copies the text; [data-copy-from="#id"] copies that
                                 element's value or text. Says "Copied".
   <time datetime>               relative time ("5m ago"), exact local time in `title`
   [data-dialog-open="id"]       opens <dialog id> (a link's href is the no-script way)
   [data-dialog-close]           closes its dialog; dialog[data-no-dismiss] ignores
                                 Escape and backdrop clicks
   form[data-confirm="message"]  asks before submitting (also on a submit button, or on
                                 the chosen <option> of a select in the form)
   form[data-busy-label]         the submit button says "Saving…" (or the label given)
                                 while the request runs, for htmx and plain forms alike
   button[data-requires="id"]    disabled while input#id is empty
   #toast                        the page's one live region (role=status): toasts, an
                                 `HX-Trigger: {"sigillo:status": "…"}` answer, and the
                                 text of [data-status] in a fragment swapped in or a
                                 page loaded (only read: the page shows it already)
   [aria-invalid=true]           the first one in a page loaded gets focus (a form sent
                                 back with errors)
   a.button, a[role=button]      Space activates them as it does a button
   details.org-switcher          Escape closes it, focus back on its summary
   (any swap)                    a fragment that replaced the focused element gives focus
                                 to its equivalent in the new content (same id, or same
                                 tag/name/value), else to [data-focus-after-swap] in
                                 the part swapped (a tabindex=-1 table or heading)
*/
(function () {
  "use strict";

  var YEAR = 365 * 24 * 3600;
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  /* -- theme ------------------------------------------------------------------------- */

  function setTheme(theme) {
    var root = document.documentElement;
    root.classList.remove("theme-light", "theme-dark");
    if (theme === "light" || theme === "dark") {
      root.classList.add("theme-" + theme);
      document.cookie = "color-theme=" + theme + "; Path=/; Max-Age=" + YEAR + "; SameSite=Lax";
    } else {
      document.cookie = "color-theme=; Path=/; Max-Age=0; SameSite=Lax";
    }
  }

  document.addEventListener("change", function (event) {
    var select = event.target.closest && event.target.closest("select[data-theme-select]");
    if (select) setTheme(select.value);
  });

  /* -- toasts -------------------------------------------------------------------------- */

  /* #toast is the page's one live region (role=status): it stays in the page, empty and
     out of sight between messages, so that a screen reader announces each new text. The
     same message twice is announced twice (emptied first). */

  var toastTimer = null;
  var toastWrite = null;

  function toast(message, isError, quiet) {
    var box = document.getElementById("toast");
    if (!box) return;
    box.hidden = false;
    clearTimeout(toastTimer);
    clearTimeout(toastWrite);
    box.textContent = "";
    box.classList.toggle("error", !!isError);
    box.classList.toggle("quiet", !!quiet);
    toastWrite = setTimeout(function () {
      box.textContent = message;
      toastTimer = setTimeout(function () { box.textContent = ""; }, 6000);
    }, 50);
  }

  window.sigillo = window.sigillo || {};
  window.sigillo.announce = toast;

  // The server says what happened: an `HX-Trigger: {"sigillo:status": "text"}` header, or
  // `[data-status]` in the fragment swapped in or the page loaded (its text, which the page
  // shows already, so the toast is only read; empty says nothing). Pages have no live
  // region of their own: one that arrives already filled is often not announced.
  document.addEventListener("sigillo:status", function (event) {
    var text = event.detail && event.detail.value;
    if (typeof text === "string" && text) toast(text);
  });

  function announceFragment(root) {
    if (!root || !root.querySelectorAll) return;
    var found = [];
    var around = root.parentElement && root.parentElement.closest("[data-status]");
    if (around) found.push(around); // swapped into it (innerHTML)
    else if (root.matches && root.matches("[data-status]")) found.push(root);
    root.querySelectorAll("[data-status]").forEach(function (element) { found.push(element); });
    found.forEach(function (element) {
      var text = element.textContent.trim();
      if (!text || element.closest("[role=alert]")) return; // an alert is read out itself
      toast(text, !!element.querySelector(".error") || element.classList.contains("error"), true);
    });
  }

  /* -- copy buttons -------------------------------------------------------------------- */

  function copyText(button) {
    if (button.hasAttribute("data-copy-from")) {
      var source = document.querySelector(button.getAttribute("data-copy-from"));
      if (!source) return null;
      return "value" in source && source.tagName !== "BUTTON" ? source.value : source.textContent;
    }
    return button.getAttribute("data-copy");
  }

  function copied(button) {
    var label = button.textContent;
    button.textContent = "Copied";
    setTimeout(function () { button.textContent = label; }, 1500);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy], [data-copy-from]");
    if (!button) return;
    event.preventDefault();
    var text = copyText(button);
    if (text === null) return;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { copied(button); }, function () {
        toast("Could not copy: select the text and copy it by hand.", true);
      });
    } else {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "copy-buffer";
      document.body.appendChild(area);
      area.select();
      try {
        document.execCommand("copy");
        copied(button);
      } catch (error) {
        toast("Could not copy: select the text and copy it by hand.", true);
      }
      area.remove();
    }
  });

  /* -- relative times ------------------------------------------------------------------ */

  function relative(moment, now) {
    var seconds = Math.max(0, Math.floor((now - moment) / 1000));
    if (seconds < 60) return "just now";
    if (seconds < 3600) return Math.floor(seconds / 60) + "m ago";
    if (seconds < 86400) return Math.floor(seconds / 3600) + "h ago";
    var date = new Date(moment);
    return MONTHS[date.getMonth()] + " " + date.getDate() + ", " + date.getFullYear();
  }

  function refreshTimes(root) {
    var now = Date.now();
    (root || document).querySelectorAll("time[datetime]").forEach(function (element) {
      var moment = Date.parse(element.getAttribute("datetime"));
      if (isNaN(moment)) return;
      element.textContent = relative(moment, now);
      element.title = new Date(moment).toLocaleString();
    });
  }

  /* -- dialogs ------------------------------------------------------------------------- */

  document.addEventListener("click", function (event) {
    var opener = event.target.closest && event.target.closest("[data-dialog-open]");
    if (opener) {
      var dialog = document.getElementById(opener.getAttribute("data-dialog-open"));
      if (dialog && typeof dialog.showModal === "function") {
        event.preventDefault();
        dialog.showModal();
        var first = dialog.querySelector("input:not([type=hidden]), select, textarea");
        if (first) first.focus();
      }
      return;
    }
    var closer = event.target.closest && event.target.closest("[data-dialog-close]");
    if (closer) {
      var open = closer.closest("dialog");
      if (open) {
        event.preventDefault();
        open.close();
      }
      return;
    }
    // A click on the backdrop lands on the <dialog> itself, outside its box.
    var target = event.target;
    if (target.tagName === "DIALOG" && target.open && !target.hasAttribute("data-no-dismiss")) {
      var box = target.getBoundingClientRect();
      var inside = event.clientX >= box.left && event.clientX <= box.right &&
        event.clientY >= box.top && event.clientY <= box.bottom;
      if (!inside) target.close();
    }
  });

  document.addEventListener("cancel", function (event) {
    if (event.target.tagName === "DIALOG" && event.target.hasAttribute("data-no-dismiss")) {
      event.preventDefault();
    }
  }, true);

  /* -- confirmations and busy buttons -------------------------------------------------- */

  function submitterOf(event) {
    var form = event.target;
    return event.submitter || form.querySelector("button[type=submit], button:not([type])");
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = submitterOf(event);
    var chosen = form.querySelector("select option[data-confirm]:checked");
    var question = (submitter && submitter.getAttribute("data-confirm")) ||
      form.getAttribute("data-confirm") || (chosen && chosen.getAttribute("data-confirm"));
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    if (form.getAttribute("data-busy") === "true") {
      event.preventDefault(); // already on its way: one click, one request
      event.stopImmediatePropagation();
      return;
    }
    // Plain (non-htmx) forms: the page is about to change; say so meanwhile.
    var isHtmx = form.hasAttribute("hx-post") || form.hasAttribute("hx-put") ||
      form.hasAttribute("hx-patch") || form.hasAttribute("hx-delete");
    if (!isHtmx && form.method.toLowerCase() === "post" && form.hasAttribute("data-busy-label")) {
      busy(form, submitter, true);
    }
  }, true);

  function busy(form, submitter, on) {
    form.setAttribute("data-busy", on ? "true" : "false");
    if (!submitter) return;
    if (on) {
      submitter.setAttribute("data-label", submitter.textContent);
      submitter.textContent = form.getAttribute("data-busy-label") || "Saving…";
      submitter.setAttribute("aria-busy", "true");
      submitter.setAttribute("aria-disabled", "true");
    } else if (submitter.hasAttribute("data-label")) {
      submitter.textContent = submitter.getAttribute("data-label");
      submitter.removeAttribute("data-label");
      submitter.removeAttribute("aria-busy");
      submitter.removeAttribute("aria-disabled");
    }
  }

  var pressed = new WeakMap(); // form -> the button that sent its request

  function requestSource(event) {
    var element = event.detail && event.detail.elt;
    if (!element) return null;
    var form = element.tagName === "FORM" ? element : element.closest("form");
    var verb = (event.detail.requestConfig && event.detail.requestConfig.verb) || "get";
    if (verb === "get") return null; // optimistic feedback is for saving, not for reading
    return { form: form || element, element: element };
  }

  function requestSubmitter(event, source) {
    // The button actually pressed (SubmitEvent.submitter), not the form's first one.
    if (source.element.tagName === "BUTTON") return source.element;
    var trigger = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent;
    if (trigger && trigger.submitter) return trigger.submitter;
    return source.form.querySelector("button[type=submit], button:not([type])");
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var source = requestSource(event);
    if (!source) return;
    var submitter = requestSubmitter(event, source);
    pressed.set(source.form, submitter);
    busy(source.form, submitter, true);
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var source = requestSource(event);
    if (!source) return;
    busy(source.form, pressed.get(source.form) || requestSubmitter(event, source), false);
    pressed.delete(source.form);
  });

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail && event.detail.xhr ? event.detail.xhr.status : 0;
    toast(status === 403 ? "Not allowed. Reload the page and try again." :
      "Something went wrong (" + status + "). Try again.", true);
  });

  document.addEventListener("htmx:sendError", function () {
    toast("The server could not be reached. Check your connection.", true);
  });

  /* -- required inputs ----------------------------------------------------------------- */

  function refreshRequirements(root) {
    (root || document).querySelectorAll("button[data-requires]").forEach(function (button) {
      var input = document.getElementById(button.getAttribute("data-requires"));
      button.disabled = !!input && input.value.trim() === "";
    });
  }

  document.addEventListener("input", function () { refreshRequirements(document); });

  /* -- keyboard -------------------------------------------------------------------------- */

  // A link that looks like a button answers Space as a button does.
  document.addEventListener("keydown", function (event) {
    if (event.key !== " " || event.defaultPrevented || event.altKey || event.ctrlKey ||
      event.metaKey) return;
    var link = event.target.closest && event.target.closest("a.button[href], a[role=button]");
    if (!link || link !== event.target) return;
    event.preventDefault();
    link.click();
  });

  // Escape closes an open <details> menu (the org switcher) and gives focus back to its
  // summary.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.defaultPrevented) return;
    var menu = event.target.closest && event.target.closest("details.org-switcher[open]");
    if (!menu) return;
    event.preventDefault();
    menu.open = false;
    var summary = menu.querySelector("summary");
    if (summary) summary.focus();
  });

  /* -- focus after a swap ------------------------------------------------------------------ */

  /* A fragment that replaces the focused element would leave focus on <body>: the element
     that had it is looked for again in the new content (same id, or same tag, name and
     value), else a [data-focus-after-swap] element in the swapped part (the target, found
     again by its id), else anywhere. Tabs with a better idea (secrets.js) move focus
     themselves in htmx:afterSwap; this runs after them. */

  var lostFocus = null;

  function describe(element, target) {
    return {
      scope: target.id,
      id: element.id,
      tag: element.tagName.toLowerCase(),
      name: element.getAttribute("name"),
      value: element.getAttribute("value"),
      form: element.getAttribute("form"),
    };
  }

  function focusable(element) {
    return !!element && element.isConnected && !element.disabled &&
      !element.closest("[hidden], dialog:not([open])") && element.getClientRects().length > 0;
  }

  function findAgain(seen) {
    if (seen.id) {
      var same = document.getElementById(seen.id);
      if (focusable(same)) return same;
    }
    if (seen.name) {
      var selector = seen.tag + '[name="' + CSS.escape(seen.name) + '"]';
      if (seen.value !== null) selector += '[value="' + CSS.escape(seen.value) + '"]';
      if (seen.form) selector += '[form="' + CSS.escape(seen.form) + '"]';
      var found = Array.prototype.filter.call(document.querySelectorAll(selector), focusable);
      if (found.length === 1) return found[0];
    }
    var scope = (seen.scope && document.getElementById(seen.scope)) || document;
    var hint = Array.prototype.filter.call(scope.querySelectorAll("[data-focus-after-swap]"), focusable);
    if (!hint.length && scope !== document) {
      hint = Array.prototype.filter.call(document.querySelectorAll("[data-focus-after-swap]"), focusable);
    }
    return hint[0] || null;
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    var active = document.activeElement;
    lostFocus = target && active && active !== document.body && target.contains(active) ?
      describe(active, target) : null;
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var seen = lostFocus;
    lostFocus = null;
    if (!seen) return;
    var active = document.activeElement;
    if (active && active !== document.body && active.isConnected) return;
    var again = findAgain(seen);
    if (again) again.focus();
  });

  /* -- start, and again for every fragment htmx swaps in -------------------------------- */

  function init(root) {
    refreshTimes(root);
    refreshRequirements(root);
  }

  document.addEventListener("DOMContentLoaded", function () {
    init(document);
    announceFragment(document.body); // a plain form's answer: the page it loaded
    // A form sent back with errors: focus on its first invalid field, whose label and
    // error (aria-describedby) are then read out, unless something has focus already.
    var invalid = document.querySelector("#main [aria-invalid=true]");
    if (invalid && (!document.activeElement || document.activeElement === document.body)) {
      invalid.focus();
    }
  });
  document.addEventListener("htmx:load", function (event) {
    if (event.target === document.body) return; // the first load: DOMContentLoaded did it
    init(event.target);
    announceFragment(event.target);
  });
  window.addEventListener("pageshow", function (event) {
    // Back/forward cache: a form left busy must be usable again.
    if (event.persisted) {
      document.querySelectorAll("form[data-busy=true]").forEach(function (form) {
        busy(form, form.querySelector("[data-label]"), false);
      });
    }
  });
  setInterval(function () { refreshTimes(document); }, 30000);
})();
