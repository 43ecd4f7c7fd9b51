/* Gridwatch cases page: show the open tab, and count every deadline down in the browser.
 * Each [data-due] element holds an ISO deadline; once a second its text becomes the time left
 * (hh:mm) or, past it, the time overdue in red. Texts come from the catalog (gw-cases-texts). */
(function () {
  "use strict";
  window.dash_clientside = window.dash_clientside || {};

  function hhmm(ms) {
    const minutes = Math.floor(Math.abs(ms) / 60000);
    const h = Math.floor(minutes / 60);
    const m = minutes % 60;
    return (h < 10 ? "0" : "") + h + ":" + (m < 10 ? "0" : "") + m;
  }

  function redraw(texts) {
    const now = Date.now();
    let counted = 0;
    document.querySelectorAll(".gw-cases [data-due]").forEach(function (el) {
      const due = Date.parse(el.getAttribute("data-due"));
      if (Number.isNaN(due)) return;
      const left = due - now;
      const over = left < 0;
      const text = (over ? texts.over : texts.left).replace("{time}", hhmm(left));
      if (el.textContent !== text) el.textContent = text;
      el.classList.toggle("gw-overdue", over);
      counted += 1;
    });
    return counted;
  }

  window.dash_clientside.gw_cases = {
    onTab: function (tab) {
      return "gw-cases-body gw-tab-" + (tab || "list");
    },
    onTick: function (_n, texts) {
      if (!texts) return window.dash_clientside.no_update;
      window.gw = window.gw || {};
      window.gw.cases = { counted: redraw(texts), at: Date.now() };
      return window.dash_clientside.no_update;
    },
  };
})();
