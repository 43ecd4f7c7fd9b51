/* Gridwatch page shell: say at once when an address is not for this user, or is no page.
 * The server refuses such a page itself (callbacks/page.py); this only shows the notice. */
(function () {
  "use strict";
  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.gw_pages = {
    onPath: function (pathname, access) {
      if (!pathname || !access) return [true, true];
      const path = pathname.replace(/\/+$/, "") || "/";
      if (!(path in access)) return [true, false];
      return [access[path] === true, true];
    },
  };
})();
