// Live parts of the pages, on top of server-rendered HTML: hold countdowns tick every second, and
// a page with data-live listens to its server-sent events and reloads its region when the status changes.
(function () {
  function pad(n) {
    return n < 10 ? '0' + n : String(n);
  }
  function tick() {
    document.querySelectorAll('[data-expires]').forEach(function (el) {
      var left = Math.max(0, Math.round((Date.parse(el.getAttribute('data-expires')) - Date.now()) / 1000));
      el.textContent = Math.floor(left / 60) + ':' + pad(left % 60);
    });
  }
  var sources = [];
  function listen() {
    sources.forEach(function (s) {
      s.close();
    });
    sources = [];
    document.querySelectorAll('[data-live]').forEach(function (el) {
      var src = new EventSource(el.getAttribute('data-live'));
      var first = el.getAttribute('data-version');
      src.addEventListener('state', function (e) {
        var state = JSON.parse(e.data);
        if (state.expiresAt)
          el.querySelectorAll('[data-expires]').forEach(function (t) {
            t.setAttribute('data-expires', state.expiresAt);
          });
        if (state.version === first) return;
        src.close();
        // A region that can be fetched alone is swapped in place (the doctor's inbox); otherwise the page reloads.
        var swap = el.getAttribute('data-live-swap');
        if (swap && window.htmx) window.htmx.ajax('GET', swap, { target: el, swap: 'outerHTML' });
        else window.location.reload();
      });
      sources.push(src);
    });
  }
  function stop() {
    sources.forEach(function (s) {
      s.close();
    });
    sources = [];
  }
  // The visitor's own action changes the status: that answer shows, not a reload racing it.
  document.addEventListener('submit', stop, true);
  document.addEventListener('htmx:beforeRequest', stop);
  document.addEventListener('DOMContentLoaded', function () {
    tick();
    listen();
    setInterval(tick, 1000);
  });
  document.addEventListener('htmx:afterSettle', function () {
    tick();
    listen();
  });
  window.addEventListener('pagehide', stop);
  // The doctor's visit page: choosing a suggestion fills the diagnosis code field (the doctor may still change it).
  document.addEventListener('click', function (e) {
    var btn = e.target && e.target.closest ? e.target.closest('[data-fill-code]') : null;
    var field = document.getElementById('diagnosisCode');
    if (!btn || !field) return;
    field.value = btn.getAttribute('data-fill-code');
    var error = document.getElementById('code-error');
    if (error) error.textContent = '';
    field.removeAttribute('aria-invalid');
    field.focus();
  });
})();
