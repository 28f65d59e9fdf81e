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
    // drawn at once, not animated: what the page shows is there as soon as it is shown (and in a screenshot)
    chart.setOption(Object.assign({animation: false}, JSON.parse(el.dataset.chart)));
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

// 效果预测: the simulator's form is sent as JSON to POST /api/v1/admin/simulations (data-int and data-number fields
// as numbers, data-fen amounts typed in yuan as integer fen, empty data-optional fields left out); the answer is
// drawn: cumulative new customers by day with its 10th–90th percentile band shaded, the cascade size distribution
// as bars, and the figures (expected values, fizzle probability, when the budget runs out).
(function () {
  "use strict";
  var form = document.getElementById("simulator");
  if (!form) return;
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var charts = {};
  form.simulationBody = body;

  function fen(el) {
    var match = /^\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$/.exec(el.value);
    if (!match) throw {errors: [{field: el.name, hint: "请填写正确的金额，如 12.50"}]};
    return parseInt(match[1], 10) * 100 + parseInt(((match[2] || "") + "00").slice(0, 2), 10);
  }

  function body() {
    var out = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name) return;
      var value = el.value.trim();
      if (value === "" && el.hasAttribute("data-optional")) return;
      if (el.hasAttribute("data-fen")) out[el.name] = fen(el);
      else if (el.hasAttribute("data-int") || el.hasAttribute("data-number")) {
        out[el.name] = value === "" || isNaN(Number(value)) ? value : Number(value);
      } else out[el.name] = value;
    });
    return out;
  }

  function showErrors(problem) {
    form.querySelectorAll(".field-error").forEach(function (el) { el.textContent = ""; });
    var rest = [];
    (problem.errors || []).forEach(function (e) {
      var slot = form.querySelector('.field-error[data-for="' + e.field + '"]');
      if (slot) slot.textContent = e.hint || e.message; else rest.push(e.hint || e.message);
    });
    form.querySelector(".form-error").textContent = rest.length ? rest.join("；") :
      ((problem.errors || []).length ? "" : problem.message || "预测未完成，请稍后再试");
  }

  function percent(x) { return (x * 100).toFixed(1) + "%"; }
  function yuan(f) { return "¥" + (f / 100).toFixed(2); }
  function set(name, text) { document.querySelector('[data-figure="' + name + '"]').textContent = text; }

  function draw(id, option) {
    var el = document.getElementById(id);
    el.style.height = "300px";
    if (!window.echarts) { el.textContent = "图表组件未安装（运行 make install）"; return; }
    if (!charts[id]) {
      charts[id] = window.echarts.init(el, null, {renderer: "canvas"});
      window.addEventListener("resize", function () { charts[id].resize(); });
    }
    charts[id].setOption(Object.assign({animation: false}, option), true);
  }

  function show(answer) {
    var days = answer.by_day, out = answer.budget_runs_out, c = answer.cascade;
    set("new_customers", answer.new_customers.mean.toFixed(1));
    set("new_customers_band", "10%–90%：" + answer.new_customers.p10 + "–" + answer.new_customers.p90 + " 人");
    set("orders", answer.orders.mean.toFixed(1));
    set("orders_band", "10%–90%：" + answer.orders.p10 + "–" + answer.orders.p90 + " 单");
    set("spent", yuan(answer.budget_spent_fen.mean));
    set("runs_out", out.probability > 0 ? percent(out.probability) + " 的情况下预算用完，中位数在第 " +
        (out.median_hours / 24).toFixed(1) + " 天" : "预算不会用完");
    set("p_fizzle", percent(answer.p_fizzle));
    set("cascade", "中位数 " + c.q50);
    set("cascade_sub", "P90 " + c.q90 + " · P99 " + c.q99 + " 人 · 只有自己的占 " + percent(c.p_size_1));
    var note = document.querySelector('[data-figure="note"]');
    note.textContent = answer.caps.note;
    note.hidden = !answer.caps.note;
    document.getElementById("sim-answer").hidden = false;
    var labels = days.map(function (d) { return "第 " + d.day + " 天"; });
    draw("sim-days", {
      title: {text: "累计新客户（阴影为 10%–90% 区间）", left: 0, textStyle: {fontSize: 14}},
      tooltip: {trigger: "axis"}, legend: {bottom: 0, data: ["累计新客户（平均）", "每日新客户（平均）"]},
      grid: {left: 56, right: 16, top: 48, bottom: 56},
      xAxis: {type: "category", data: labels}, yAxis: {type: "value", minInterval: 1},
      series: [
        {name: "区间下限", type: "line", stack: "band", symbol: "none", lineStyle: {opacity: 0},
         data: days.map(function (d) { return d.cumulative_p10; }), tooltip: {show: false}},
        {name: "10%–90% 区间", type: "line", stack: "band", symbol: "none", lineStyle: {opacity: 0},
         areaStyle: {color: "#1664ff", opacity: 0.18},
         data: days.map(function (d) { return d.cumulative_p90 - d.cumulative_p10; })},
        {name: "累计新客户（平均）", type: "line", itemStyle: {color: "#1664ff"},
         data: days.map(function (d) { return Number(d.cumulative_mean.toFixed(2)); })},
        {name: "每日新客户（平均）", type: "bar", itemStyle: {color: "#00b42a"},
         data: days.map(function (d) { return Number(d.mean.toFixed(2)); })}]});
    draw("sim-sizes", {
      title: {text: "单条传播链的人数分布（含发起人）", left: 0, textStyle: {fontSize: 14}},
      tooltip: {trigger: "axis", valueFormatter: function (v) { return v + "%"; }},
      grid: {left: 56, right: 16, top: 48, bottom: 28},
      xAxis: {type: "category", name: "人数", data: c.histogram.map(function (b) { return b.label; })},
      yAxis: {type: "value", axisLabel: {formatter: "{value}%"}},
      series: [{name: "占比", type: "bar", itemStyle: {color: "#ff7d00"},
                data: c.histogram.map(function (b) { return Number((b.share * 100).toFixed(2)); })}]});
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var payload, button = form.querySelector("[type=submit]");
    try { payload = body(); } catch (problem) { showErrors(problem); return; }
    showErrors({errors: []});
    form.querySelector(".form-error").textContent = "";
    button.disabled = true;
    var parts = form.dataset.api.split(" ");
    fetch(parts[1], {method: parts[0], credentials: "same-origin", body: JSON.stringify(payload),
                             headers: {"Content-Type": "application/json", "Accept": "application/json",
                                       "X-CSRF-Token": csrf}})
      .then(function (response) {
        return response.json().then(function (answer) { if (!response.ok) throw answer; return answer; });
      })
      .then(function (answer) { form.dataset.answered = "1"; show(answer); })
      .catch(function (problem) { showErrors(problem && problem.code ? problem : {message: "网络不给力，请稍后再试"}); })
      .then(function () { button.disabled = false; });
  });
})();

// 数据分析: in a big cascade tree only the first level is drawn; a node whose children are not loaded carries the
// tree API's address for them (`more`), fetched when the node is clicked and drawn under it (a page of 100).
(function () {
  "use strict";
  var el = document.querySelector(".tree-chart .chart");
  if (!el || !window.echarts) return;
  var chart = window.echarts.getInstanceByDom(el), option = JSON.parse(el.dataset.chart);
  if (!chart) return;
  var actions = {join: "参团", help: "助力", claim: "领取", order: "下单", click: "点击", share: "分享"};

  function find(node, more) {
    if (node.more === more) return node;
    for (var i = 0; node.children && i < node.children.length; i++) {
      var found = find(node.children[i], more);
      if (found) return found;
    }
    return null;
  }

  function item(n, base) {
    var name = "顾客 " + n.customer_id, words = name + "：第 " + n.depth + " 层，" + (actions[n.action] || n.action) +
      (n.paid_fen ? "，支付 ¥" + (n.paid_fen / 100).toFixed(2) : "") + (n.is_new ? "，新客户" : "") +
      "，带来 " + n.children + " 人";
    var out = {name: name, value: n.children, tooltip: {formatter: words}};
    if (n.children) { out.children = []; out.collapsed = true; out.more = base + "?parent_id=" + n.customer_id; }
    return out;
  }

  chart.on("click", function (params) {
    var more = params.data && params.data.more;
    if (!more) return;
    var node = find(option.series[0].data[0], more);
    if (!node || node.loaded) return;
    node.loaded = true;
    fetch(more, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { if (!response.ok) throw response; return response.json(); })
      .then(function (page) {
        node.children = page.nodes.map(function (n) { return item(n, more.split("?")[0]); });
        node.collapsed = false;
        chart.setOption({series: [{data: option.series[0].data}]});
      })
      .catch(function () { node.loaded = false; });
  });
})();

// 效果预测 opened from a campaign: 保存为该活动的预测 posts the form (as the simulator reads it) to the campaign's
// forecast API, which runs it on the campaign's own settings and keeps it to compare with the results after launch.
(function () {
  "use strict";
  var form = document.getElementById("simulator"), button = document.getElementById("sim-save");
  if (!form || !button || !form.simulationBody) return;
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var said = document.getElementById("sim-saved"), error = form.querySelector(".form-error");
  button.addEventListener("click", function () {
    var payload;
    try { payload = form.simulationBody(); } catch (problem) { error.textContent = problem.errors[0].hint; return; }
    var parts = button.dataset.api.split(" ");
    button.disabled = true;
    said.textContent = "";
    error.textContent = "";
    fetch(parts[1], {method: parts[0], credentials: "same-origin", body: JSON.stringify(payload),
                     headers: {"Content-Type": "application/json", "Accept": "application/json",
                               "X-CSRF-Token": csrf}})
      .then(function (response) {
        return response.json().then(function (answer) { if (!response.ok) throw answer; return answer; });
      })
      .then(function (answer) {
        said.textContent = "已保存：预计新客户 " + answer.forecast.new_customers.mean.toFixed(1) + " 人";
      })
      .catch(function (problem) {
        error.textContent = problem && problem.errors && problem.errors.length ?
          problem.errors.map(function (e) { return e.hint || e.message; }).join("；") :
          (problem && problem.message) || "网络不给力，请稍后再试";
      })
      .then(function () { button.disabled = false; });
  });
})();

// Order page: the merchant's refund asks to confirm the amount it will send back: the amount typed, or (left empty)
// the whole remainder of the order, or of the chosen line. The form's data-confirm is what mall.js asks.
(function () {
  "use strict";
  var form = document.querySelector("form.merchant-refund");
  if (!form) return;
  function say() {
    var amount = form.elements.amount_fen.value.trim(), line = form.elements.sku_id;
    var what = amount ? " ¥" + amount
      : line.value ? "「" + line.options[line.selectedIndex].text + "」剩余可退的全部"
      : "剩余全部 ¥" + form.dataset.left;
    form.dataset.confirm = "确认向顾客退款" + what + "？款项将原路退回";
  }
  form.addEventListener("input", say);
  form.addEventListener("change", say);
})();
