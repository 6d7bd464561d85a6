/* Data tables readers can use: sort by any column, filter rows, download the rows shown.
   Progressive enhancement of the tables spec/templates/table.html writes (div[data-table]):
   without this script the whole table is in the page as it is. No dependencies, no network.
   Words come from the table's attributes (spec/strings/en.yml), never from here.

   Sorting: each header becomes a button (Enter or Space, or a click); the header's aria-sort
   says the order. Numeric columns (th.num) sort as numbers, others as text in the page's
   language with digits compared as numbers; empty cells always go last; ties keep the
   page's order.
   Tables with data-tools also get a labelled filter box (every word typed must appear in the
   row), a live row count, and "download these rows" (the rows shown, in the order shown, as
   RFC 4180 CSV; columns and headers as in the table's CSV file where the headers carry
   data-name and data-col). A text cell that a spreadsheet would run as a formula (starting
   with = + - @, a tab or a carriage return, and not a number) is written with a leading
   apostrophe, as OWASP advises: the download is made to be opened in a spreadsheet. The
   package's CSV files are the data of record and are never altered; no cell in them starts so. */
(function () {
  "use strict";

  var NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;
  var FORMULA = /^[=+\-@\t\r]/;
  var collator = new Intl.Collator(document.documentElement.lang || undefined, { numeric: true, sensitivity: "base" });

  function cellText(cell) {
    return cell ? cell.textContent.trim() : "";
  }

  function number(text) {
    return NUMBER.test(text) ? parseFloat(text) : NaN;
  }

  function csvCell(text) {
    if (FORMULA.test(text) && !NUMBER.test(text)) text = "'" + text;
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (m, k) { return k in values ? values[k] : m; });
  }

  function enhance(wrap) {
    var table = wrap.querySelector("table");
    if (!table || !table.tBodies.length || wrap.hasAttribute("data-enhanced")) return;
    wrap.setAttribute("data-enhanced", "");
    var body = table.tBodies[0];
    var heads = Array.prototype.slice.call(table.tHead ? table.tHead.rows[0].cells : []);
    var rows = Array.prototype.slice.call(body.rows);
    rows.forEach(function (tr, i) { tr._order = i; });

    heads.forEach(function (th, col) {
      var label = th.querySelector(".th-label") || th;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (label.firstChild) button.appendChild(label.firstChild);
      label.appendChild(button);
      button.addEventListener("click", function () { sort(col, th); });
    });

    function sort(col, th) {
      var descending = th.getAttribute("aria-sort") === "ascending";
      var numeric = th.classList.contains("num");
      heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", descending ? "descending" : "ascending");
      var keyed = rows.map(function (tr) {
        var text = cellText(tr.cells[col]);
        return { tr: tr, text: text, value: numeric ? number(text) : NaN };
      });
      keyed.sort(function (a, b) {
        var ae = a.text === "" || (numeric && isNaN(a.value)), be = b.text === "" || (numeric && isNaN(b.value));
        if (ae || be) return ae === be ? a.tr._order - b.tr._order : (ae ? 1 : -1);
        var c = numeric ? a.value - b.value : collator.compare(a.text, b.text);
        if (descending) c = -c;
        return c || a.tr._order - b.tr._order;
      });
      var frag = document.createDocumentFragment();
      keyed.forEach(function (k) { frag.appendChild(k.tr); });
      body.appendChild(frag);
      rows = keyed.map(function (k) { return k.tr; });
    }

    var stem = wrap.getAttribute("data-tools");
    if (stem === null) return;

    var tools = document.createElement("div");
    tools.className = "table-tools";
    var id = "filter-" + (document.querySelectorAll(".table-tools").length + 1);
    var label = document.createElement("label");
    label.setAttribute("for", id);
    label.textContent = wrap.getAttribute("data-filter-label");
    var input = document.createElement("input");
    input.type = "search";
    input.id = id;
    input.autocomplete = "off";
    input.spellcheck = false;
    var count = document.createElement("span");
    count.className = "table-count";
    count.setAttribute("role", "status");
    var download = document.createElement("button");
    download.type = "button";
    download.className = "table-download";
    download.textContent = wrap.getAttribute("data-download");
    tools.appendChild(label);
    tools.appendChild(input);
    tools.appendChild(count);
    tools.appendChild(download);
    wrap.parentNode.insertBefore(tools, wrap);

    rows.forEach(function (tr) {  // cells apart, so that a word never spans two of them
      tr._text = Array.prototype.map.call(tr.cells, cellText).join("\n").toLowerCase();
    });

    function update() {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (tr) {
        var match = words.every(function (w) { return tr._text.indexOf(w) !== -1; });
        tr.hidden = !match;
        if (match) shown += 1;
      });
      count.textContent = fill(wrap.getAttribute("data-count"), { shown: shown, total: rows.length });
    }
    input.addEventListener("input", update);
    update();

    download.addEventListener("click", function () {
      var order = heads.map(function (th, i) { return i; });
      var named = heads.every(function (th) { return th.hasAttribute("data-name") && th.hasAttribute("data-col"); });
      if (named) order.sort(function (a, b) { return heads[a].getAttribute("data-col") - heads[b].getAttribute("data-col"); });
      var header = order.map(function (i) {
        return named ? heads[i].getAttribute("data-name") : cellText(heads[i].querySelector(".th-label") || heads[i]);
      });
      var lines = [header.map(csvCell).join(",")];
      rows.forEach(function (tr) {
        if (!tr.hidden) lines.push(order.map(function (i) { return csvCell(cellText(tr.cells[i])); }).join(","));
      });
      var blob = new Blob([lines.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" });
      var a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = stem + "-rows.csv";
      document.body.appendChild(a);
      a.click();
      setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 0);
    });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("div[data-table]"), enhance);
  }

  // Material's instant navigation (not enabled here) would swap pages without a load event:
  // its document$ stream then re-runs init; enhance() skips tables already done.
  if (window.document$ && typeof window.document$.subscribe === "function") window.document$.subscribe(init);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
