/* Keep Dash's undo history from growing for as long as a screen stays open.
 *
 * dash-renderer records an undo step for every prop change a component makes that a callback
 * listens to (the socket's `data-kpis` and `connected`, every dcc.Interval tick), holding the
 * value it replaced, and never drops one: a wall screen open for days would keep every KPI
 * payload it was ever sent (the 30-minute heap run grew 12 %; docs/performance.md). Gridwatch
 * offers no undo (show_undo_redo is off), so the steps are trimmed in place, keeping the last
 * few, every 10 s (a wall makes about 4 a second). The renderer copies `past` into a new array
 * at each step, so trimming the current one is safe.
 */
(function () {
  "use strict";
  const KEEP = 10;
  function trim() {
    const store = window.store;
    if (!store || typeof store.getState !== "function") return;
    const history = store.getState().history;
    if (history && Array.isArray(history.past) && history.past.length > KEEP) {
      history.past.splice(0, history.past.length - KEEP);
    }
  }
  window.gwTrimHistory = trim; // for tests and benchmarks
  setInterval(trim, 10000);
})();
