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
    // The banner repeats the status badge in large type while data is stale.
    banner: function (className, text) {
      const stale = !!className && className.indexOf("gw-status-stale") >= 0;
      return [stale ? text : "", !stale];
    },
  };
})();
