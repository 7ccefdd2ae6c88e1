/* casegraph web UI behaviour: plain JavaScript, no libraries, nothing from the internet.
   Every feature is progressive: pages work as forms and links without it. */
(function () {
  "use strict";
  var $ = function (sel, root) { return (root || document).querySelector(sel); };
  var $$ = function (sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); };

  /* ---------- search as you type (debounced) ---------- */
  function initSearch() {
    var form = $("form[data-live-search]");
    if (!form) return;
    var target = $(form.getAttribute("data-live-search"));
    var url = form.getAttribute("data-results-url");
    var timer = null, ctrl = null, last = null;
    function run() {
      var params = new URLSearchParams(new FormData(form));
      var qs = params.toString();
      if (qs === last) return;
      last = qs;
      if (ctrl) ctrl.abort();
      ctrl = new AbortController();
      target.setAttribute("aria-busy", "true");
      fetch(url + "?" + qs, { signal: ctrl.signal, credentials: "same-origin",
                              headers: { "X-Requested-With": "fetch" } })
        .then(function (r) {
          if (r.status === 401) { window.location = "/ui/login"; return ""; }
          return r.text();
        })
        .then(function (html) {
          target.innerHTML = html; target.removeAttribute("aria-busy");
          history.replaceState(null, "", "?" + qs);
        })
        .catch(function (e) { if (e.name !== "AbortError") target.removeAttribute("aria-busy"); });
    }
    function later() { clearTimeout(timer); timer = setTimeout(run, 250); }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    form.addEventListener("submit", function (e) { e.preventDefault(); clearTimeout(timer); last = null; run(); });
  }

  /* ---------- purpose-of-use dialog before opening a profile ---------- */
  function initPurpose() {
    var dlg = $("#purpose-dialog");
    if (!dlg) return;
    var form = $("form", dlg);
    document.addEventListener("click", function (e) {
      var a = e.target.closest && e.target.closest("a[data-purpose]");
      if (!a) return;
      e.preventDefault();
      form.setAttribute("action", a.getAttribute("href"));
      var who = $("[data-purpose-who]", dlg);
      if (who) who.textContent = a.getAttribute("data-purpose") || "";
      dlg.showModal();
      var inp = $("input[name=purpose], textarea[name=purpose]", dlg);
      if (inp) { inp.value = a.getAttribute("data-purpose-default") || ""; inp.focus(); inp.select(); }
    });
  }

  /* ---------- dialogs: open / close buttons ---------- */
  function initDialogs() {
    document.addEventListener("click", function (e) {
      var t = e.target.closest && e.target.closest("[data-close-dialog]");
      if (t) { e.preventDefault(); t.closest("dialog").close(); }
      var o = e.target.closest && e.target.closest("[data-open-dialog]");
      if (o) {
        e.preventDefault();
        var d = document.getElementById(o.getAttribute("data-open-dialog"));
        if (!d) return;
        // copy data-set-* attributes into the dialog's form fields / text
        Array.prototype.forEach.call(o.attributes, function (at) {
          if (at.name.indexOf("data-set-") !== 0) return;
          var key = at.name.slice(9);
          var f = d.querySelector("[name='" + key + "']");
          if (f) f.value = at.value;
          var txt = d.querySelector("[data-text='" + key + "']");
          if (txt) txt.textContent = at.value;
        });
        if (o.hasAttribute("data-action")) d.querySelector("form").setAttribute("action", o.getAttribute("data-action"));
        var flags = o.getAttribute("data-flags");
        var box = d.querySelector("[data-flag-acks]");
        if (box) {
          $$(".field", box).forEach(function (n) { n.remove(); });
          (flags ? flags.split("|") : []).forEach(function (f, i) {
            if (!f) return;
            var id = "ack-" + i;
            var div = document.createElement("div");
            div.className = "field";
            var cb = document.createElement("input");
            cb.type = "checkbox"; cb.name = "acknowledge"; cb.value = f; cb.id = id; cb.required = true;
            var lab = document.createElement("label");
            lab.htmlFor = id; lab.style.display = "inline"; lab.style.fontWeight = "normal";
            lab.textContent = " I acknowledge: " + f.replace(/_/g, " ");
            div.appendChild(cb); div.appendChild(lab); box.appendChild(div);
          });
          box.hidden = !flags || d.querySelector("[name=decision]").value !== "approve";
          $$("input", box).forEach(function (cb) { cb.required = !box.hidden; });
        }
        d.showModal();
        var first = d.querySelector("textarea, input:not([type=hidden]), select");
        if (first) first.focus();
      }
    });
  }

  /* ---------- provenance popovers on identity values ---------- */
  function initProvenance() {
    var pop = document.createElement("div");
    pop.className = "pop"; pop.hidden = true; pop.setAttribute("role", "tooltip"); pop.id = "prov-pop";
    document.body.appendChild(pop);
    var sticky = false;
    function show(btn) {
      var tpl = document.getElementById(btn.getAttribute("data-prov"));
      if (!tpl) return;
      pop.innerHTML = tpl.innerHTML;
      var r = btn.getBoundingClientRect();
      pop.style.left = (window.scrollX + r.left) + "px";
      pop.style.top = (window.scrollY + r.bottom + 4) + "px";
      pop.hidden = false;
      btn.setAttribute("aria-describedby", "prov-pop");
    }
    function hide() { pop.hidden = true; sticky = false; }
    $$("[data-prov]").forEach(function (b) {
      b.addEventListener("mouseenter", function () { if (!sticky) show(b); });
      b.addEventListener("mouseleave", function () { if (!sticky) hide(); });
      b.addEventListener("focus", function () { show(b); });
      b.addEventListener("blur", function () { if (!sticky) hide(); });
      b.addEventListener("click", function (e) { e.preventDefault(); show(b); sticky = true; });
    });
    document.addEventListener("keydown", function (e) { if (e.key === "Escape") hide(); });
    document.addEventListener("click", function (e) {
      if (sticky && !e.target.closest("[data-prov]") && !pop.contains(e.target)) hide();
    });
  }

  /* ---------- explain view (fetched fragment) ---------- */
  function initExplain() {
    document.addEventListener("click", function (e) {
      var b = e.target.closest && e.target.closest("[data-explain-url]");
      if (!b) return;
      e.preventDefault();
      var target = document.getElementById(b.getAttribute("data-target"));
      target.innerHTML = "<p class='muted'>Loading explanation…</p>";
      target.hidden = false;
      fetch(b.getAttribute("data-explain-url"), { credentials: "same-origin" })
        .then(function (r) { return r.text(); })
        .then(function (html) { target.innerHTML = html; target.scrollIntoView({ block: "nearest" }); var h = target.querySelector("h3"); if (h) { h.tabIndex = -1; h.focus(); } });
    });
  }

  /* ---------- sortable tables ---------- */
  function cellValue(row, idx) {
    var c = row.children[idx];
    if (!c) return "";
    var v = c.getAttribute("data-sort");
    if (v === null) v = c.textContent.trim();
    var n = parseFloat(v);
    return (!isNaN(n) && /^-?[\d.]+(e-?\d+)?$/i.test(v)) ? n : v.toLowerCase();
  }
  function initSort() {
    $$("table.sortable").forEach(function (table) {
      $$("th", table).forEach(function (th, idx) {
        var btn = $("button.sort", th);
        if (!btn) return;
        btn.addEventListener("click", function () {
          var dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
          $$("th", table).forEach(function (o) { o.removeAttribute("aria-sort"); });
          th.setAttribute("aria-sort", dir);
          var body = table.tBodies[0];
          var rows = Array.prototype.slice.call(body.rows);
          rows.sort(function (a, b) {
            var x = cellValue(a, idx), y = cellValue(b, idx);
            var r = x < y ? -1 : x > y ? 1 : 0;
            return dir === "ascending" ? r : -r;
          });
          rows.forEach(function (r) { body.appendChild(r); });
        });
      });
    });
  }

  /* ---------- client-side table filters + map selection ---------- */
  var selection = { regions: null, ids: null };
  function applyFilters() {
    $$("table[data-filterable]").forEach(function (table) {
      var text = ($("[data-filter-text]") || { value: "" }).value.trim().toLowerCase();
      var selects = $$("select[data-filter-col]");
      var minp = parseFloat(($("[data-filter-min]") || { value: "" }).value);
      var shown = 0;
      $$("tbody tr", table).forEach(function (tr) {
        var ok = true;
        if (text && tr.textContent.toLowerCase().indexOf(text) < 0) ok = false;
        selects.forEach(function (s) {
          if (s.value && (tr.getAttribute("data-" + s.getAttribute("data-filter-col")) || "").split("|").indexOf(s.value) < 0) ok = false;
        });
        if (!isNaN(minp) && parseFloat(tr.getAttribute("data-priority") || "0") < minp) ok = false;
        if (selection.regions && selection.regions.indexOf(tr.getAttribute("data-region")) < 0) ok = false;
        if (selection.ids && selection.ids.indexOf(tr.getAttribute("data-id")) < 0) ok = false;
        tr.hidden = !ok;
        if (ok) shown++;
      });
      var c = $("[data-shown-count]");
      if (c) c.textContent = shown;
    });
    var status = $("[data-selection-status]");
    if (status) {
      var parts = [];
      if (selection.regions) parts.push("state " + selection.regions.join(", "));
      if (selection.ids) parts.push(selection.ids.length + " lead(s) selected on the map");
      status.textContent = parts.length ? "Map filter: " + parts.join("; ") : "No map filter.";
      var clear = $("[data-clear-selection]");
      if (clear) clear.hidden = !parts.length;
    }
    $$(".map .state").forEach(function (s) {
      s.classList.toggle("active", !!(selection.regions && selection.regions.indexOf(s.getAttribute("data-region")) >= 0));
    });
    $$(".map circle.pt").forEach(function (c) {
      c.classList.toggle("selected", !!(selection.ids && selection.ids.indexOf(c.getAttribute("data-id")) >= 0));
    });
  }
  function initFilters() {
    $$("[data-filter-text], select[data-filter-col], [data-filter-min]").forEach(function (el) {
      el.addEventListener("input", applyFilters);
      el.addEventListener("change", applyFilters);
    });
    var clear = $("[data-clear-selection]");
    if (clear) clear.addEventListener("click", function () { selection.regions = null; selection.ids = null; applyFilters(); });
  }
  function svgPoint(svg, evt) {
    var pt = svg.createSVGPoint(); pt.x = evt.clientX; pt.y = evt.clientY;
    return pt.matrixTransform(svg.getScreenCTM().inverse());
  }
  function initMap() {
    var svg = $(".map[data-selectable] svg");
    if (!svg) return;
    function toggleRegion(r) {
      if (!r) return;
      var cur = selection.regions || [];
      var i = cur.indexOf(r);
      if (i >= 0) cur.splice(i, 1); else cur.push(r);
      selection.regions = cur.length ? cur : null;
      selection.ids = null;
      applyFilters();
    }
    $$(".state", svg).forEach(function (s) {
      s.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggleRegion(s.getAttribute("data-region")); } });
    });
    $$("circle.pt", svg).forEach(function (c) {
      c.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); selection.ids = [c.getAttribute("data-id")]; selection.regions = null; applyFilters(); }
      });
    });
    // drag a rectangle to select points; a click without drag selects a state or a point
    var start = null, rect = null;
    svg.addEventListener("mousedown", function (e) {
      if (e.button !== 0) return;
      start = svgPoint(svg, e);
      rect = document.createElementNS("http://www.w3.org/2000/svg", "rect");
      rect.setAttribute("class", "brush");
      svg.appendChild(rect);
      e.preventDefault();
    });
    svg.addEventListener("mousemove", function (e) {
      if (!start) return;
      var p = svgPoint(svg, e);
      rect.setAttribute("x", Math.min(p.x, start.x)); rect.setAttribute("y", Math.min(p.y, start.y));
      rect.setAttribute("width", Math.abs(p.x - start.x)); rect.setAttribute("height", Math.abs(p.y - start.y));
    });
    window.addEventListener("mouseup", function (e) {
      if (!start) return;
      var p = svgPoint(svg, e);
      var x0 = Math.min(p.x, start.x), x1 = Math.max(p.x, start.x), y0 = Math.min(p.y, start.y), y1 = Math.max(p.y, start.y);
      rect.remove(); rect = null;
      var wasClick = (x1 - x0) < 4 && (y1 - y0) < 4;
      start = null;
      if (wasClick) {
        var t = e.target;
        if (t.classList && t.classList.contains("pt")) {
          selection.ids = [t.getAttribute("data-id")]; selection.regions = null; applyFilters();
          var row = document.querySelector("tr[data-id='" + t.getAttribute("data-id") + "']");
          if (row) row.scrollIntoView({ block: "nearest" });
        } else if (t.classList && t.classList.contains("state")) {
          toggleRegion(t.getAttribute("data-region"));
        }
        return;
      }
      var ids = $$("circle.pt", svg).filter(function (c) {
        var cx = +c.getAttribute("cx"), cy = +c.getAttribute("cy");
        return cx >= x0 && cx <= x1 && cy >= y0 && cy <= y1;
      }).map(function (c) { return c.getAttribute("data-id"); });
      selection.ids = ids; selection.regions = null;
      applyFilters();
    });
  }

  /* ---------- decision dialog: show flag acknowledgements only for approvals ---------- */
  function initDecision() {
    $$("dialog select[name=decision]").forEach(function (sel) {
      sel.addEventListener("change", function () {
        var box = sel.closest("form").querySelector("[data-flag-acks]");
        if (!box) return;
        box.hidden = sel.value !== "approve" || !box.querySelectorAll("input").length;
        $$("input", box).forEach(function (cb) { cb.required = !box.hidden; });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    initSearch(); initPurpose(); initDialogs(); initProvenance(); initExplain(); initSort();
    initFilters(); initMap(); initDecision(); applyFilters();
  });
})();
