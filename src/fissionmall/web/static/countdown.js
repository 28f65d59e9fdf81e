// Counts down the element #countdown from its data-seconds, once a second.
(function () {
  var el = document.getElementById("countdown");
  if (!el) return;
  var left = parseInt(el.dataset.seconds, 10);
  function show() {
    var h = Math.floor(left / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
    el.textContent = "剩余 " + h + ":" + String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0");
    if (left > 0) { left -= 1; setTimeout(show, 1000); }
  }
  show();
})();
