// After htmx loads the explain panel, move focus to it so keyboard and screen-reader users
// land on the answer (the panel is below the table on narrow screens).
document.addEventListener("htmx:afterSwap", function (e) {
  var t = e.detail && e.detail.target;
  if (t && t.id === "explain") {
    t.focus();
  }
});
