// The shopper pages' one script: forms that act through the API, the share sheet, countdowns. The pages work as
// plain links without it; it never builds page content, it only sends what the page's forms say.
(function () {
  "use strict";
  var meta = function (name) { var m = document.querySelector('meta[name="' + name + '"]'); return m ? m.content : ""; };
  var csrf = meta("csrf-token");

  function signIn() {
    location.assign(meta("login-url") + "?next=" + encodeURIComponent(location.pathname + location.search));
  }

  function put(target, path, value) {
    var keys = path.split("."), at = target;
    for (var i = 0; i < keys.length - 1; i++) {
      var key = keys[i], nextIsIndex = /^\d+$/.test(keys[i + 1]);
      if (at[key] === undefined) at[key] = nextIsIndex ? [] : {};
      at = at[key];
    }
    at[keys[keys.length - 1]] = value;
  }

  // The form's fields as the API's JSON body: data-int numbers, checkboxes true/false (or, with data-list, the
  // checked values as a list, empty when none is), empty data-optional fields left out, empty data-null ones sent
  // as null, data-china-time (datetime-local) as China time, data-lines (a textarea) as a list of its lines.
  function body(form) {
    var out = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled) return;
      var value = el.value;
      if (el.type === "checkbox" && el.hasAttribute("data-list")) {
        var list = el.name.split(".").reduce(function (o, k) { return o && o[k]; }, out);
        if (!Array.isArray(list)) { list = []; put(out, el.name, list); }  // none ticked: an empty list
        if (!el.checked) return;
        list.push(el.hasAttribute("data-int") ? parseInt(value, 10) : value);
        return;
      }
      if (el.type === "checkbox") { put(out, el.name, el.checked); return; }
      if (el.type === "radio" && !el.checked) return;
      if (value === "" && el.hasAttribute("data-null")) { put(out, el.name, null); return; }
      if (value === "" && el.hasAttribute("data-optional")) return;
      if (el.hasAttribute("data-lines")) {  // one entry a line, empty lines left out
        put(out, el.name, value.split("\n").map(function (l) { return l.trim(); }).filter(Boolean)); return;
      }
      if (el.hasAttribute("data-china-time") && value) { put(out, el.name, value + ":00+08:00"); return; }
      if (el.hasAttribute("data-fen")) { put(out, el.name, fen(el) * sign(form, el)); return; }
      if (el.hasAttribute("data-percent")) { put(out, el.name, fen(el)); return; }  // basis points
      if (el.hasAttribute("data-duration")) { put(out, el.name, duration(form, el)); return; }
      put(out, el.name, el.hasAttribute("data-int") && value !== "" ? Number(value) : value);
    });
    return form.hasAttribute("data-compact") ? compact(out) : out;
  }

  // Lines of a list left empty (an optional row of a form) close up instead of being sent as nulls.
  function compact(value) {
    if (Array.isArray(value)) return value.filter(function (v) { return v !== undefined; }).map(compact);
    if (value && typeof value === "object") {
      Object.keys(value).forEach(function (k) { value[k] = compact(value[k]); });
    }
    return value;
  }

  // An amount typed in yuan ("12.5", "12.50") as integer fen, read from the digits (never through a float); other
  // text is refused by the field before anything is sent. A data-percent rate ("12.5" %) is basis points the same way.
  function fen(el) {
    var match = /^\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$/.exec(el.value);
    var hint = el.hasAttribute("data-percent") ? "请填写正确的百分比，最多两位小数，如 12.5" : "请填写正确的金额，如 12.50";
    if (!match) throw {code: "invalid_request", errors: [{field: el.name, hint: hint}]};
    return parseInt(match[1], 10) * 100 + parseInt(((match[2] || "") + "00").slice(0, 2), 10);
  }

  // A signed amount: a <select data-sign-for="field"> beside it says -1 (a cut) or 1 (a charge).
  function sign(form, el) {
    var chosen = form.querySelector('[data-sign-for="' + el.name + '"]');
    return chosen ? Number(chosen.value) : 1;
  }

  // A duration typed as a number and a unit (分钟 / 小时 / 天), sent in the API's unit (data-duration: seconds per
  // unit of the API's field); a span that is not a whole number of the API's units is refused by the field.
  function duration(form, el) {
    var unit = form.querySelector('[data-unit-for="' + el.name + '"]'), per = Number(el.dataset.duration);
    var seconds = /^\s*\d{1,6}\s*$/.test(el.value) ? parseInt(el.value, 10) * Number(unit ? unit.value : 1) : NaN;
    if (isNaN(seconds) || seconds % per) {
      throw {code: "invalid_request", errors: [{field: el.name, hint: "请填写正确的时长（整数）"}]};
    }
    return seconds / per;
  }

  function fill(template, answer) {
    return template.replace(/\{([\w.]+)\}/g, function (_, path) {
      return encodeURIComponent(path.split(".").reduce(function (o, k) { return o == null ? o : o[k]; }, answer));
    });
  }

  function showErrors(form, problem) {
    form.querySelectorAll(".field-error").forEach(function (el) { el.textContent = ""; });
    var general = form.querySelector(".form-error"), rest = [];
    // a refusal by the service names one field (and its Chinese message) rather than listing errors
    var errors = problem.errors || (problem.field ? [{field: problem.field, hint: problem.message}] : []);
    errors.forEach(function (e) {
      var slot = form.querySelector('.field-error[data-for="' + e.field + '"]');
      if (slot) slot.textContent = e.hint || e.message; else rest.push(e.hint || e.message);
    });
    if (general) general.textContent = rest.length ? problem.message + "：" + rest.join("；") :
      (errors.length ? "" : problem.message || "操作未成功，请稍后再试");
  }

  function send(method, path, payload, idempotencyKey) {
    var headers = {"Content-Type": "application/json", "Accept": "application/json"};
    if (csrf) headers["X-CSRF-Token"] = csrf;
    if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
    return fetch(path, {method: method, headers: headers, credentials: "same-origin",
                        body: method === "GET" ? undefined : JSON.stringify(payload)})
      .then(function (response) {
        if (response.status === 401) { signIn(); return new Promise(function () {}); }
        return response.text().then(function (text) {
          var answer = text ? JSON.parse(text) : {};
          if (!response.ok) throw answer;
          return answer;
        });
      });
  }

  function newKey() {
    return (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
  }

  // After POST /orders/{id}/pay: WeChat's JSAPI inside WeChat, the sandbox's own confirm page in the demo.
  function pay(form, answer) {
    if (answer.payment_id === null) { location.assign(fill(form.dataset.paid, answer)); return; }
    if (answer.provider === "wechatpay" && window.WeixinJSBridge) {
      window.WeixinJSBridge.invoke("getBrandWCPayRequest", answer.params, function (result) {
        if (result.err_msg === "get_brand_wcpay_request:ok") location.assign(fill(form.dataset.paid, answer));
        else form.querySelector(".form-error").textContent = "支付未完成，可在订单中继续支付";
      });
      return;
    }
    location.assign(fill(form.dataset.sandbox, answer));
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList.contains("act")) return;
    event.preventDefault();
    if (!csrf) { signIn(); return; }
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    var parts = form.dataset.api.split(" "), button = form.querySelector("[type=submit]");
    if (form.hasAttribute("data-idempotent") && !form.dataset.key) form.dataset.key = newKey();
    var payload;
    try { payload = body(form); } catch (problem) { showErrors(form, problem); return; }
    if (button) button.disabled = true;
    send(parts[0], parts[1], payload, form.dataset.key).then(function (answer) {
      if (form.dataset.then === "pay") pay(form, answer);
      else if (form.dataset.then === "sheet") openSheet(answer[form.dataset.link], "", true);
      else if (form.dataset.next) location.assign(fill(form.dataset.next, answer));
      else location.reload();
    }).catch(function (problem) {
      if (button) button.disabled = false;
      showErrors(form, problem && problem.code ? problem : {message: "网络不给力，请稍后再试"});
    });
  });

  // GET forms marked .auto resubmit as soon as a choice changes (checkout's coupon, points, wallet).
  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (form && form.classList.contains("auto")) form.submit();
  });

  var sheet = document.getElementById("share-sheet");
  // The sheet shows a link to hand on: a share's (with its poster), or the answer of a form marked
  // data-then="sheet" (a gift voucher's one-time claim link, no poster; the page reloads when the sheet closes).
  function openSheet(link, poster, reload) {
    var image = document.getElementById("share-poster");
    document.getElementById("share-link").value = link;
    image.hidden = !poster;
    document.getElementById("share-hint").textContent = poster ? "长按海报保存图片，发送给好友或朋友圈" :
      "复制链接发给好友；链接只能领取一次";
    if (poster) image.src = poster;
    if (reload) sheet.dataset.reload = "1";
    sheet.showModal();
  }
  document.addEventListener("click", function (event) {
    var trigger = event.target.closest("[data-share-type]");
    if (!trigger || !sheet) return;
    if (!csrf) { signIn(); return; }
    var error = document.getElementById("share-error");
    error.textContent = "";
    send("POST", "/api/v1/shares", {target_type: trigger.dataset.shareType,
                                    target_id: Number(trigger.dataset.shareId)}).then(function (share) {
      sheet.dataset.code = share.code;
      openSheet(share.link, share.poster_url, false);
    }).catch(function (problem) { sheet.showModal(); error.textContent = problem.message || "分享失败"; });
  });
  if (sheet) {
    document.getElementById("share-close").addEventListener("click", function () {
      sheet.close();
      if (sheet.dataset.reload) location.reload();
    });
    document.getElementById("share-copy").addEventListener("click", function () {
      var input = document.getElementById("share-link");
      input.select();
      (navigator.clipboard ? navigator.clipboard.writeText(input.value) : Promise.reject()).catch(function () {
        document.execCommand("copy");
      }).then(function () { document.getElementById("share-copy").textContent = "已复制"; });
    });
  }

  // Countdowns: "剩余 2 天 03:12:09", or "剩余 03:12:09" under a day.
  document.querySelectorAll("[data-seconds]").forEach(function (el) {
    var left = parseInt(el.dataset.seconds, 10), two = function (n) { return String(n).padStart(2, "0"); };
    (function tick() {
      var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600), m = Math.floor(left % 3600 / 60);
      el.textContent = (el.dataset.prefix || "剩余 ") + (d ? d + " 天 " : "") + two(h) + ":" + two(m) + ":" +
        two(left % 60);
      if (left > 0) { left -= 1; setTimeout(tick, 1000); }
    })();
  });

  // Photos for a post or a review: <input type="file" data-photo-for="images"> sends the chosen image to
  // POST /api/v1/community/media (multipart, with the CSRF header) and adds its URL to the form as images.N, shown in
  // the [data-photos] box beside it; a refusal shows by the field.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.dataset || !input.dataset.photoFor || !input.files || !input.files.length) return;
    var form = input.form, name = input.dataset.photoFor, box = form.querySelector('[data-photos="' + name + '"]');
    var error = form.querySelector('.field-error[data-for="' + name + '"]');
    if (!csrf) { signIn(); return; }
    if (box.querySelectorAll("img").length >= 9) { error.textContent = "最多 9 张照片"; input.value = ""; return; }
    var data = new FormData();
    data.append("file", input.files[0]);
    error.textContent = "上传中…";
    fetch("/api/v1/community/media", {method: "POST", body: data, credentials: "same-origin",
                                      headers: {"X-CSRF-Token": csrf, "Accept": "application/json"}})
      .then(function (response) {
        return response.json().then(function (answer) { if (!response.ok) throw answer; return answer; });
      })
      .then(function (answer) {
        var n = box.querySelectorAll("img").length, image = document.createElement("img"),
            field = document.createElement("input");
        image.src = answer.url; image.alt = "照片 " + (n + 1);
        field.type = "hidden"; field.name = name + "." + n; field.value = answer.url;
        box.appendChild(image); box.appendChild(field);
        form.querySelectorAll(".field-error, .form-error").forEach(function (el) { el.textContent = ""; });
      })
      .catch(function (problem) { error.textContent = (problem && problem.message) || "上传失败，请重试"; })
      .then(function () { input.value = ""; });
  });

  // A page waiting for something the server does in the background (a payment being confirmed) looks again.
  var waiting = document.querySelector("[data-refresh-seconds]");
  if (waiting) setTimeout(function () { location.reload(); }, 1000 * Number(waiting.dataset.refreshSeconds));
})();
