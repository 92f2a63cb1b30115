// passd's own enhancements; every form works without them.
// The new invoice form: add and remove lines on the page and keep a live
// total. Amounts are computed in integer cents from the typed text, never
// with floating-point euros.
(function () {
  "use strict";

  function cents(text) {
    var m = /^\s*(\d{1,9})(?:[.,](\d{1,2}))?\s*$/.exec(text || "");
    if (!m) { return null; }
    var frac = (m[2] || "0");
    if (frac.length === 1) { frac += "0"; }
    return parseInt(m[1], 10) * 100 + parseInt(frac, 10);
  }

  function formatCents(total) {
    var units = String(Math.floor(total / 100));
    var rest = String(total % 100);
    if (rest.length < 2) { rest = "0" + rest; }
    var grouped = units.replace(/\B(?=(\d{3})+(?!\d))/g, "\u202f");
    return grouped + "," + rest + "\u00a0€";
  }

  function setup(form) {
    var lines = form.querySelector("#lines");
    var addButton = form.querySelector("#add-line");
    var total = form.querySelector("#total");
    var max = parseInt(lines.getAttribute("data-max-lines"), 10) || 100;

    function updateTotal() {
      var sum = 0;
      lines.querySelectorAll("fieldset.line").forEach(function (line) {
        var q = line.querySelector("input[name=quantity]").value.trim();
        var p = cents(line.querySelector("input[name=unit_price]").value);
        if (/^\d{1,3}$/.test(q) && p !== null) { sum += parseInt(q, 10) * p; }
      });
      total.textContent = "Total : " + formatCents(sum);
    }

    function renumber() {
      var all = lines.querySelectorAll("fieldset.line");
      all.forEach(function (line, i) {
        var n = i + 1;
        line.setAttribute("data-line", String(n));
        line.querySelector("legend").textContent = "Ligne " + n;
        line.querySelectorAll(".field").forEach(function (field) {
          var input = field.querySelector("input");
          var label = field.querySelector("label");
          var name = input.getAttribute("name");
          input.id = name + "-" + n;
          label.setAttribute("for", input.id);
          label.textContent = label.textContent.replace(/\(ligne \d+\)$/, "(ligne " + n + ")");
        });
        var remove = line.querySelector(".remove-line");
        remove.value = "remove-line-" + n;
        remove.disabled = all.length === 1;
      });
      addButton.disabled = all.length >= max;
    }

    // With the page doing the work, these buttons no longer submit (and
    // Enter in a field sends the invoice, not "Retirer la ligne").
    addButton.type = "button";
    lines.querySelectorAll(".remove-line").forEach(function (b) { b.type = "button"; });

    addButton.addEventListener("click", function () {
      var all = lines.querySelectorAll("fieldset.line");
      var copy = all[all.length - 1].cloneNode(true);
      copy.querySelectorAll(".error").forEach(function (e) { e.remove(); });
      copy.querySelectorAll("input").forEach(function (input) {
        input.value = input.name === "quantity" ? "1" : "";
        input.removeAttribute("aria-invalid");
        input.removeAttribute("aria-describedby");
      });
      lines.appendChild(copy);
      renumber();
      updateTotal();
      copy.querySelector("input").focus();
    });

    lines.addEventListener("click", function (event) {
      var button = event.target.closest(".remove-line");
      if (!button) { return; }
      var all = lines.querySelectorAll("fieldset.line");
      if (all.length === 1) { return; }
      button.closest("fieldset.line").remove();
      renumber();
      updateTotal();
      addButton.focus();
    });

    lines.addEventListener("input", updateTotal);
    renumber();
    updateTotal();
  }

  // A form sent back with errors: the focus goes to the first field in
  // error, or else to the message above the form (given tabindex="-1"),
  // so that a keyboard or screen-reader user starts where the fix is.
  function focusFirstError() {
    var field = document.querySelector('main [aria-invalid="true"]');
    var alert = document.querySelector('main [role="alert"][tabindex="-1"]');
    var target = field || alert;
    if (target) { target.focus(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("invoice-form");
    if (form) { setup(form); }
    focusFirstError();
  });
})();
