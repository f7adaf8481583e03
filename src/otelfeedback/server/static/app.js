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

  // Keep the selected span in view in long trees; after a span change (a page load with
  // ?span=), focus stays on the span the keyboard chose instead of going back to the top.
  var selected = document.querySelector(".span-row.selected");
  if (selected && selected.scrollIntoView) selected.scrollIntoView({ block: "nearest" });
  var params = new URLSearchParams(window.location.search);
  if (selected && params.has("span") && !window.location.hash) {
    var link = selected.querySelector("a.span-link");
    if (link) link.focus({ preventScroll: true });
  }

  // The add form: "Add feedback" (and #add-assessment) opens it and puts the cursor in it;
  // after a save (#assessments) focus goes to the panel, where the new card is.
  function openAddForm(focus) {
    var add = document.getElementById("add-assessment");
    if (!add) return;
    add.open = true;
    if (focus) {
      var name = document.getElementById("new-name");
      if (name) name.focus();
    }
  }
  document.querySelectorAll("#jump-to-add, .js-open-add").forEach(function (jump) {
    jump.addEventListener("click", function (event) {
      if (!document.getElementById("add-assessment")) return;
      event.preventDefault();
      openAddForm(true);
      document.getElementById("add-assessment").scrollIntoView({ block: "nearest" });
    });
  });
  if (window.location.hash === "#add-assessment") openAddForm(true);
  if (window.location.hash === "#assessments") {
    var panel = document.getElementById("assessments");
    if (panel) {
      panel.setAttribute("tabindex", "-1");
      panel.focus({ preventScroll: true });
    }
  }

  // Keyboard: j / k = next / previous trace, a = add feedback (trace page); "/" = search.
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    var go = null;
    if (event.key === "j") go = document.getElementById("next-trace");
    if (event.key === "k") go = document.getElementById("prev-trace");
    if (go) { window.location.href = go.getAttribute("href"); return; }
    if (event.key === "a" && document.getElementById("add-assessment")) {
      event.preventDefault();
      openAddForm(true);
      document.getElementById("add-assessment").scrollIntoView({ block: "nearest" });
      return;
    }
    if (event.key === "/") {
      var box = document.getElementById("q");
      if (box) { event.preventDefault(); box.focus(); box.select(); }
    }
  });

  // Traces table: Up / Down move to the row above or below (link to link, box to box).
  var table = document.getElementById("traces-table");
  if (table) {
    table.addEventListener("keydown", function (event) {
      if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
      var kinds = ["a.trace-link", "input.js-select-row"];
      for (var k = 0; k < kinds.length; k++) {
        var items = Array.prototype.slice.call(table.querySelectorAll(kinds[k]));
        var at = items.indexOf(document.activeElement);
        if (at < 0) continue;
        var next = items[at + (event.key === "ArrowDown" ? 1 : -1)];
        if (next) { event.preventDefault(); next.focus(); }
        return;
      }
    });
  }

  // The time range applies as soon as it is picked.
  document.querySelectorAll(".js-autosubmit").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // Long content: clamp to a few lines with "Show more".
  document.querySelectorAll(".js-clamp").forEach(function (block) {
    block.classList.add("clamped");
    if (block.scrollHeight <= block.clientHeight + 8) { block.classList.remove("clamped"); return; }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-tiny show-more";
    button.textContent = "Show more";
    button.setAttribute("aria-expanded", "false");
    button.addEventListener("click", function () {
      var open = block.classList.toggle("clamped") === false;
      button.textContent = open ? "Show less" : "Show more";
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
    block.parentNode.insertBefore(button, block.nextSibling);
  });

  // Search box: suggest fields, assessment names, operators and keywords.
  var box = document.getElementById("q");
  var list = document.getElementById("q-suggestions");
  if (box && list) {
    var fields = [];
    try { fields = JSON.parse(box.getAttribute("data-fields") || "[]"); } catch (e) { fields = []; }
    var operators = ["=", "!=", ">", ">=", "<", "<=", "LIKE", "ILIKE", "IN", "IS NULL", "IS NOT NULL"];
    var joiners = ["AND", "OR", "NOT"];
    var active = -1;
    var items = [];

    function currentWord() {
      var upto = box.value.slice(0, box.selectionStart);
      var match = /[^\s()]*$/.exec(upto);
      return { start: upto.length - match[0].length, text: match[0] };
    }
    function previousToken(start) {
      var before = box.value.slice(0, start).trim();
      var match = /(\S+)$/.exec(before);
      return match ? match[1] : "";
    }
    function candidates() {
      var word = currentWord();
      var prev = previousToken(word.start);
      var lower = word.text.toLowerCase();
      var pool;
      if (prev === "" || /^(AND|OR|NOT|\()$/i.test(prev)) pool = fields.map(function (f) { return [f, "field"]; });
      else if (fields.indexOf(prev) >= 0 || /^(trace|span|tags|tag|metadata|feedback|expectation)\./i.test(prev)) pool = operators.map(function (o) { return [o, "operator"]; });
      else pool = joiners.map(function (j) { return [j, ""]; });
      if (pool[0] && pool[0][1] === "field" && word.text.length === 0 && prev === "") return [];
      return pool.filter(function (c) { return c[0].toLowerCase().indexOf(lower) === 0 && c[0] !== word.text; }).slice(0, 12);
    }
    function close() {
      list.hidden = true; box.setAttribute("aria-expanded", "false"); box.removeAttribute("aria-activedescendant"); active = -1; items = [];
    }
    function render() {
      items = candidates();
      list.textContent = "";
      if (!items.length) { close(); return; }
      items.forEach(function (c, i) {
        var li = document.createElement("li");
        li.id = "q-option-" + i;
        li.setAttribute("role", "option");
        li.textContent = c[0];
        if (c[1]) { var hint = document.createElement("span"); hint.className = "hint"; hint.textContent = c[1]; li.appendChild(hint); }
        li.addEventListener("mousedown", function (event) { event.preventDefault(); accept(i); });
        list.appendChild(li);
      });
      list.hidden = false; box.setAttribute("aria-expanded", "true"); highlight(-1);
    }
    function highlight(i) {
      active = i;
      Array.prototype.forEach.call(list.children, function (li, j) { li.setAttribute("aria-selected", j === i ? "true" : "false"); });
      if (i >= 0) box.setAttribute("aria-activedescendant", "q-option-" + i); else box.removeAttribute("aria-activedescendant");
    }
    function accept(i) {
      var word = currentWord();
      var text = items[i][0];
      var after = box.value.slice(box.selectionStart);
      var insert = text + (/\.$/.test(text) ? "" : " ");
      box.value = box.value.slice(0, word.start) + insert + after;
      var caret = word.start + insert.length;
      box.setSelectionRange(caret, caret);
      render();
    }
    box.addEventListener("input", render);
    box.addEventListener("blur", close);
    box.addEventListener("keydown", function (event) {
      if (list.hidden) {
        if (event.key === "ArrowDown" && box.value) { render(); event.preventDefault(); }
        return;
      }
      if (event.key === "ArrowDown") { highlight(Math.min(items.length - 1, active + 1)); event.preventDefault(); }
      else if (event.key === "ArrowUp") { highlight(Math.max(-1, active - 1)); event.preventDefault(); }
      else if ((event.key === "Enter" || event.key === "Tab") && active >= 0) { accept(active); event.preventDefault(); }
      else if (event.key === "Escape") { close(); event.preventDefault(); }
    });
  }
})();
