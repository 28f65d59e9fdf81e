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

// Catalogue: <button data-upload="#file" data-into="#images"> sends the chosen (already previewed) image to
// POST /api/v1/admin/media as multipart with the CSRF header, then adds the returned URL to the product's images
// (a checked box the product form sends in its `images` list).
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-upload]");
    if (!button) return;
    var input = document.querySelector(button.dataset.upload), into = document.querySelector(button.dataset.into);
    var error = button.parentNode.querySelector(".upload-error");
    error.textContent = "";
    if (!input.files || !input.files[0]) { error.textContent = "请先选择图片"; return; }
    var data = new FormData();
    data.append("file", input.files[0]);
    button.disabled = true;
    fetch("/api/v1/admin/media", {method: "POST", body: data, credentials: "same-origin",
                                  headers: {"X-CSRF-Token": csrf, "Accept": "application/json"}})
      .then(function (response) {
        return response.json().then(function (answer) { if (!response.ok) throw answer; return answer; });
      })
      .then(function (answer) {
        var label = document.createElement("label"), box = document.createElement("input");
        var img = document.createElement("img");
        label.className = "image";
        box.type = "checkbox"; box.name = "images"; box.value = answer.url; box.checked = true;
        box.setAttribute("data-list", "");
        img.className = "thumb"; img.src = answer.url; img.alt = "";
        label.appendChild(box); label.appendChild(img);
        into.appendChild(label);
        input.value = "";
        document.querySelector(input.dataset.preview).hidden = true;
      })
      .catch(function (problem) {
        error.textContent = (problem && problem.message) || "上传失败，请稍后再试";
      })
      .then(function () { button.disabled = false; });
  });
})();

// Store counter: a scan button where the browser has a camera and BarcodeDetector (otherwise the code is typed);
// the first QR code seen fills the code field with the digits it carries.
(function () {
  "use strict";
  var button = document.querySelector("[data-scan]");
  if (!button || !("BarcodeDetector" in window) || !navigator.mediaDevices ||
      !navigator.mediaDevices.getUserMedia) return;
  var field = document.querySelector(button.dataset.scan), video = document.querySelector(button.dataset.video);
  var note = document.querySelector(button.dataset.note), stream = null;
  // some browsers have the class but no QR reader on this platform: the button only where QR codes can be read
  Promise.resolve(window.BarcodeDetector.getSupportedFormats ? window.BarcodeDetector.getSupportedFormats() : [])
    .then(function (formats) { button.hidden = formats.indexOf("qr_code") < 0; })
    .catch(function () { button.hidden = true; });

  function stop() {
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    stream = null;
    video.hidden = true;
    button.textContent = "扫码";
  }

  button.addEventListener("click", function () {
    if (stream) { stop(); return; }
    var detector = new window.BarcodeDetector({formats: ["qr_code"]});
    note.textContent = "";
    navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false}).then(function (s) {
      stream = s;
      video.srcObject = s;
      video.hidden = false;
      button.textContent = "停止扫码";
      return video.play();
    }).then(function () {
      (function look() {
        if (!stream) return;
        detector.detect(video).then(function (codes) {
          var digits = codes.length && /\d{6,16}/.exec(codes[0].rawValue);
          if (digits) { field.value = digits[0]; stop(); field.focus(); return; }
          if (codes.length) note.textContent = "二维码中没有核销码";
          setTimeout(look, 250);
        }).catch(function () { setTimeout(look, 500); });
      })();
    }).catch(function () { stop(); note.textContent = "无法打开摄像头，请手动输入核销码"; });
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
