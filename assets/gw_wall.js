/* Gridwatch wall screen: rotation through districts (?rotate=SECONDS) and the stale banner. */
(function () {
  "use strict";
  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.gw_wall = {
    // ?rotate=60 turns rotation on, every 60 s (at least 10 s); without it the wall stays put.
    rotation: function (search) {
      const m = /(?:^|[?&])rotate=(\d+)/.exec(search || "");
      if (!m) return [60000, true];
      return [Math.max(10, parseInt(m[1], 10)) * 1000, false];
    },
    // The chart strip's tick, passed on once the map's first view is drawn (the graphs load
    // Plotly, a long parse that held the map up), or after a few seconds if the map is not there.
    afterMap: function (n) {
      const gw = window.gw || {};
      const waitMs = 4000;
      return Promise.race([
        gw.drawn || Promise.resolve(),
        new Promise(function (resolve) {
          setTimeout(resolve, waitMs);
        }),
      ]).then(function () {
        return n || 0;
      });
    },
    // The banner repeats the status badge in large type while data is stale.
    banner: function (className, text) {
      const stale = !!className && className.indexOf("gw-status-stale") >= 0;
      return [stale ? text : "", !stale];
    },
  };
})();
