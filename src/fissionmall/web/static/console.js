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
