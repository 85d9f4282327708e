// Namespace filter: shows what concerns one namespace (preselected by #ns=NAME). Without this
// script, everything shows.
(function () {
  "use strict";
  var select = document.getElementById("ns");
  var filter = document.getElementById("filter");
  if (!select || !filter) { return; }
  filter.hidden = false;
  function has(value, ns) {
    return (value || "").split(" ").indexOf(ns) >= 0;
  }
  function matrix(ns) {
    var table = document.getElementById("mx");
    if (!table) { return; }
    var heads = table.tHead.rows[0].cells;
    var rows = table.tBodies[0].rows;
    var colOn = [];
    var rowOn = [];
    var i, j;
    for (j = 1; j < heads.length; j++) { colOn[j] = ns === "" || has(heads[j].getAttribute("data-ns"), ns); }
    for (i = 0; i < rows.length; i++) {
      var mine = ns === "" || has(rows[i].getAttribute("data-ns"), ns);
      rowOn[i] = mine;
      for (j = 1; j < rows[i].cells.length; j++) {
        if (!rows[i].cells[j].classList.contains("c")) { continue; }
        if (mine) { colOn[j] = true; }
        if (has(heads[j].getAttribute("data-ns"), ns)) { rowOn[i] = true; }
      }
    }
    for (j = 1; j < heads.length; j++) { heads[j].classList.toggle("off", !colOn[j]); }
    for (i = 0; i < rows.length; i++) {
      rows[i].classList.toggle("off", !rowOn[i]);
      for (j = 1; j < rows[i].cells.length; j++) { rows[i].cells[j].classList.toggle("off", !colOn[j]); }
    }
  }
  function apply() {
    var ns = select.value;
    var items = document.querySelectorAll("#graph [data-ns], #flows tr[data-ns], .finding");
    var shown = 0;
    for (var i = 0; i < items.length; i++) {
      var v = items[i].getAttribute("data-ns") || "";
      var on = ns === "" || v === "" || has(v, ns);
      items[i].classList.toggle("off", !on);
      if (on && items[i].classList.contains("finding")) { shown++; }
    }
    matrix(ns);
    document.getElementById("shown").textContent = ns === "" ? "" : shown + " finding(s) concern it or no namespace";
  }
  select.addEventListener("change", function () {
    apply();
    try { history.replaceState(null, "", select.value === "" ? "#" : "#ns=" + encodeURIComponent(select.value)); } catch (e) { /* not allowed here */ }
  });
  // A link may preselect a namespace: report.html#ns=NAME.
  var m = /^#ns=(.+)$/.exec(location.hash);
  if (m) {
    var want = decodeURIComponent(m[1]);
    for (var k = 0; k < select.options.length; k++) {
      if (select.options[k].value === want) { select.value = want; apply(); }
    }
  }
  window.addEventListener("beforeprint", function () {
    var d = document.querySelectorAll("details.why");
    for (var i = 0; i < d.length; i++) { d[i].open = true; }
  });
})();
