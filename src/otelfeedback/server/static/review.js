// otelfeedback review app: keyboard shortcuts. Vendored, no build step; the pages work without it.
//   1-9         pick that answer of the focused question (else the first question with choices)
//   Ctrl+Enter  submit the labels (also Cmd+Enter)
//   j / k       next / previous item (when not typing)
(function () {
  "use strict";
  var form = document.getElementById("label-form");
  if (!form) return;

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    if (tag === "textarea" || tag === "select") return true;
    return tag === "input" && ["radio", "checkbox", "submit", "button"].indexOf(target.type) < 0;
  }

  function questionWithChoices(active) {
    var current = active && active.closest ? active.closest(".question") : null;
    if (current && current.querySelector(".choices")) return current;
    return form.querySelector(".question .choices") ? form.querySelector(".choices").closest(".question") : null;
  }

  function submitLabels() {
    var button = document.getElementById("submit-next");
    if (form.requestSubmit) form.requestSubmit(button); else button.click();
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      submitLabels();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (/^[1-9]$/.test(event.key)) {
      var question = questionWithChoices(document.activeElement);
      if (!question) return;
      var inputs = question.querySelectorAll(".choices input");
      var input = inputs[parseInt(event.key, 10) - 1];
      if (!input) return;
      event.preventDefault();
      input.checked = input.type === "checkbox" ? !input.checked : true;
      input.focus();
      return;
    }
    var link = null;
    if (event.key === "j") link = document.getElementById("forward");
    if (event.key === "k") link = document.getElementById("back");
    if (link) {
      event.preventDefault();
      window.location.href = link.href;
    }
  });

  // Put the keyboard where the work is: the first question.
  if (!document.activeElement || document.activeElement === document.body) {
    var first = form.querySelector(".question input:checked, .question input, .question textarea");
    if (first && !form.querySelector(".field-error")) first.focus({ preventScroll: true });
  }
})();
