// The console's own script, beside mall.js (which sends its forms to the API): charts drawn by ECharts from the
// option each .chart element carries (built by the server, no inline script), image previews before upload, and
// the store counter's QR scanner where the browser has a camera and BarcodeDetector.
(function () {
  "use strict";
  document.querySelectorAll(".chart").forEach(function (el) {
    el.style.height = (el.dataset.height || 280) + "px";
    if (!window.echarts) {
      el.classList.add("chart-missing");
      el.textContent = "图表组件未安装（运行 make install）";
      return;
    }
    var chart = window.echarts.init(el, null, {renderer: "canvas"});
    chart.setOption(JSON.parse(el.dataset.chart));
    window.addEventListener("resize", function () { chart.resize(); });
  });

  // <input type=file data-preview="#img"> shows the chosen image before it is sent
  document.addEventListener("change", function (event) {
    var input = event.target, target = input.dataset && input.dataset.preview;
    if (!target || !input.files || !input.files[0]) return;
    var img = document.querySelector(target);
    img.src = URL.createObjectURL(input.files[0]);
    img.hidden = false;
  });
})();

// Distribution and loyalty: a table of rows (grades, levels) grows and shrinks; the fields are renumbered
// (grades.0.name, grades.1.name …) so the form still sends a list. The levels choice (one or two) switches the
// level-2 fields off, which are then not sent (a level-2 rate is 0 unless sent).
(function () {
  "use strict";
  function renumber(body) {
    Array.prototype.forEach.call(body.querySelectorAll("tr[data-row]"), function (row, i) {
      row.querySelectorAll("[name], [data-for]").forEach(function (el) {
        ["name", "data-for"].forEach(function (attr) {
          var value = el.getAttribute(attr);
          if (value) el.setAttribute(attr, value.replace(/\.\d+\./, "." + i + "."));
        });
      });
    });
  }
  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-row]"), remove = event.target.closest("[data-remove-row]");
    if (add) {
      var body = add.closest("form").querySelector("[data-rows] tbody"), rows = body.querySelectorAll("tr[data-row]");
      if (!rows.length) return;
      var copy = rows[rows.length - 1].cloneNode(true);
      copy.querySelectorAll("input").forEach(function (input) {
        if (input.type === "checkbox") input.checked = false; else input.value = "";
      });
      copy.querySelectorAll(".field-error").forEach(function (slot) { slot.textContent = ""; });
      body.appendChild(copy);
      renumber(body);
    } else if (remove) {
      var tbody = remove.closest("tbody");
      if (tbody.querySelectorAll("tr[data-row]").length > 1) { remove.closest("tr").remove(); renumber(tbody); }
    }
  });
  var levels = document.querySelector("select[data-levels]");
  function showLevels() {
    var two = levels.value === "2";
    levels.form.querySelectorAll("[data-level2]").forEach(function (el) {
      if (el.matches("input, textarea")) el.disabled = !two; else el.hidden = !two;
    });
  }
  if (levels) { levels.addEventListener("change", showLevels); showLevels(); }
})();
