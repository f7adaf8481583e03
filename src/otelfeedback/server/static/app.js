// otelfeedback UI enhancements. Vendored, no build step; every page works without it.
(function () {
  "use strict";

  // Show only the value input that fits the chosen value type.
  function syncValueInputs(form) {
    var select = form.querySelector(".js-value-type");
    if (!select) return;
    var type = select.value;
    form.querySelectorAll("[data-for]").forEach(function (el) {
      var show = el.getAttribute("data-for").split(" ").indexOf(type) >= 0;
      el.hidden = !show;
      el.querySelectorAll("input, textarea").forEach(function (input) { input.disabled = !show; });
    });
    var value = form.querySelector("textarea[name=value]");
    if (value) {
      value.placeholder = { number: "e.g. 0.8", text: "e.g. partially correct", json: '{"key": "value"}' }[type] || "";
    }
  }

  // Expectations have no rationale.
  function syncKind(form) {
    var checked = form.querySelector("input[name=kind]:checked");
    var rationale = form.querySelector(".js-feedback-only");
    if (!checked || !rationale) return;
    var isFeedback = checked.value === "feedback";
    rationale.hidden = !isFeedback;
    rationale.querySelectorAll("textarea").forEach(function (t) { t.disabled = !isFeedback; });
  }

  document.querySelectorAll(".js-value-form").forEach(function (form) {
    syncValueInputs(form);
    syncKind(form);
    form.addEventListener("change", function (event) {
      if (event.target.matches(".js-value-type")) syncValueInputs(form);
      if (event.target.name === "kind") syncKind(form);
    });
  });

  // The reviewer's name: asked once, remembered in this browser.
  var storedName = null;
  try { storedName = window.localStorage.getItem("otelfeedback.reviewer"); } catch (e) { /* private mode */ }
  document.querySelectorAll("input[name=reviewer]").forEach(function (input) {
    if (!input.value && storedName) input.value = storedName;
  });
  document.addEventListener("submit", function (event) {
    var reviewer = event.target.querySelector("input[name=reviewer]");
    if (reviewer && reviewer.value) {
      try { window.localStorage.setItem("otelfeedback.reviewer", reviewer.value); } catch (e) { /* ignore */ }
    }
    if (event.target.matches(".js-confirm") && !window.confirm(event.target.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  // Collapse and expand subtrees of the span tree.
  document.querySelectorAll(".js-toggle").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var row = button.closest(".span-row");
      var id = row.getAttribute("data-span-id");
      var expand = button.getAttribute("aria-expanded") === "false";
      button.setAttribute("aria-expanded", expand ? "true" : "false");
      document.querySelectorAll(".span-row").forEach(function (other) {
        var ancestors = (other.getAttribute("data-ancestors") || "").split(" ");
        if (ancestors.indexOf(id) < 0) return;
        if (expand) {
          // show unless another collapsed ancestor still hides it
          var hidden = ancestors.some(function (a) {
            var t = document.querySelector('.span-row[data-span-id="' + a + '"] .js-toggle');
            return a !== id && t && t.getAttribute("aria-expanded") === "false";
          });
          other.classList.toggle("collapsed-child", hidden);
        } else {
          other.classList.add("collapsed-child");
        }
      });
    });
  });

  // Copy buttons.
  document.querySelectorAll(".js-copy").forEach(function (button) {
    if (!navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = "Copy"; }, 1200);
      });
    });
  });

  // The traces table's selection: a count, "select all on this page", and "all matching".
  var selection = document.getElementById("trace-selection");
  if (selection && !selection.classList.contains("single")) {
    var rows = document.querySelectorAll(".js-select-row");
    var pageBox = document.querySelector(".js-select-page");
    var matching = selection.querySelector(".js-select-matching");
    var count = selection.querySelector(".js-selection-count");
    var update = function () {
      var checked = Array.prototype.filter.call(rows, function (r) { return r.checked; }).length;
      if (matching && matching.checked) count.textContent = "All traces matching selected";
      else count.textContent = checked ? checked + " selected" : "Select traces with the boxes";
      if (pageBox) pageBox.checked = checked > 0 && checked === rows.length;
    };
    if (pageBox) {
      pageBox.hidden = false;
      pageBox.addEventListener("change", function () {
        rows.forEach(function (r) { r.checked = pageBox.checked; });
        update();
      });
    }
    rows.forEach(function (r) { r.addEventListener("change", update); });
    if (matching) matching.addEventListener("change", update);
    update();
  }

  // Label schema form: show the fields of the chosen answer type.
  document.querySelectorAll(".js-schema-form").forEach(function (form) {
    var select = form.querySelector(".js-input-type");
    var sync = function () {
      form.querySelectorAll("[data-input-for]").forEach(function (el) {
        el.hidden = el.getAttribute("data-input-for").split(" ").indexOf(select.value) < 0;
      });
    };
    select.addEventListener("change", sync);
    sync();
  });

  // Keep the selected span in view in long trees.
  var selected = document.querySelector(".span-row.selected");
  if (selected && selected.scrollIntoView) selected.scrollIntoView({ block: "nearest" });
})();
