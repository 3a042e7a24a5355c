// Keyboard shortcuts for reviewers. Served as a file: the CSP forbids inline scripts.
//   queue page:   n          take the next claim
//   claim page:   1-9        choose the n-th rating
//                 j / k      move to the next / previous evidence passage
//                 x          cite (or un-cite) the current passage
//                 r          write the rationale
//                 Ctrl+Enter submit the verdict (also from the rationale box)
//                 ?          show or hide this help
(function () {
  "use strict";

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "TEXTAREA" || tag === "SELECT" ||
      (tag === "INPUT" && !/^(radio|checkbox|submit|button)$/.test(target.type));
  }

  var current = -1;

  function passages() {
    return Array.prototype.slice.call(document.querySelectorAll(".evidence-item"));
  }

  function focusPassage(index) {
    var items = passages();
    if (!items.length) { return; }
    current = Math.max(0, Math.min(items.length - 1, index));
    items.forEach(function (item, i) { item.classList.toggle("current", i === current); });
    items[current].scrollIntoView({ block: "nearest" });
  }

  function countCited() {
    var note = document.getElementById("cite-note");
    if (!note) { return; }
    var n = document.querySelectorAll("input[name='evidence_ids']:checked").length;
    note.textContent = n ? n + (n === 1 ? " passage" : " passages") + " cited." :
      "Cite passages with the Cite boxes on the cards.";
  }

  function toggleCite() {
    var items = passages();
    if (current < 0 || current >= items.length) { return; }
    var box = items[current].querySelector("input[name='evidence_ids']");
    if (box) { box.checked = !box.checked; countCited(); }
  }

  document.addEventListener("change", function (event) {
    if (event.target && event.target.name === "evidence_ids") { countCited(); }
  });
  document.addEventListener("DOMContentLoaded", countCited);

  function chooseRating(n) {
    var radios = document.querySelectorAll("#verdict-form input[name='rating']");
    if (n >= 1 && n <= radios.length) { radios[n - 1].checked = true; radios[n - 1].focus(); }
  }

  function submitVerdict() {
    var form = document.getElementById("verdict-form");
    if (form) { form.requestSubmit ? form.requestSubmit() : form.submit(); }
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      if (document.getElementById("verdict-form")) { event.preventDefault(); submitVerdict(); }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    var help = document.getElementById("shortcut-help");
    if (event.key === "?" && help) { help.hidden = !help.hidden; return; }
    if (event.key === "n") {
      var next = document.getElementById("take-next");
      if (next) { event.preventDefault(); next.click(); }
      return;
    }
    if (!document.getElementById("verdict-form")) { return; }
    if (/^[1-9]$/.test(event.key)) { chooseRating(Number(event.key)); }
    else if (event.key === "j") { focusPassage(current + 1); }
    else if (event.key === "k") { focusPassage(current - 1); }
    else if (event.key === "x") { toggleCite(); }
    else if (event.key === "r") {
      var box = document.getElementById("rationale");
      if (box) { event.preventDefault(); box.focus(); }
    }
  });
})();
