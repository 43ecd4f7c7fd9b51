/* Gridwatch phone page (/report): where the phone is, a tap on the map, the chosen photos.
 * The location lives in one store ({lon, lat, source}); the server checks it (inside the
 * worker's own unit, within a patrol point's radius). Texts come from the page (catalog). */
(function () {
  "use strict";
  const gw = (window.gw = window.gw || {});
  const ids = { location: "gw-report-location", status: "gw-report-locate-status" };
  const PIN = { color: "#ffffff", weight: 3, opacity: 1, fillColor: "#cf222e", fillOpacity: 0.95 };

  function fill(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (m, k) {
      return k in values ? values[k] : m;
    });
  }

  gw.report = {
    areaStyle: function () {
      return { color: "#0969da", weight: 3, opacity: 0.9, fillColor: "#54aeff", fillOpacity: 0.12 };
    },
    // The outline must not take the tap (the map's click sets the location); keep the map for tests.
    onArea: function (feature, layer) {
      layer.options.interactive = false;
      layer.once("add", function () {
        const map = layer._map;
        gw.report.map = map;
        // Fit once the container has its size (it mounts before the stylesheet applies).
        const fit = function () {
          map.invalidateSize({ animate: false });
          map.fitBounds(layer.getBounds(), { padding: [12, 12], animate: false });
        };
        fit();
        new ResizeObserver(fit).observe(map.getContainer());
      });
    },
    map: null,
    fixes: 0, // locations set (for tests and diagnostics)
  };

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.gw_report = {
    // "Use my location": ask the phone; the answer lands in the location store.
    locate: function (clicks, texts) {
      if (!clicks) return window.dash_clientside.no_update;
      if (!navigator.geolocation) return texts.failed;
      navigator.geolocation.getCurrentPosition(
        function (pos) {
          const where = { lon: pos.coords.longitude, lat: pos.coords.latitude, source: "gps",
            accuracy: pos.coords.accuracy };
          window.dash_clientside.set_props(ids.location, { data: where });
          window.dash_clientside.set_props(ids.status, { children: "" });
        },
        function () {
          window.dash_clientside.set_props(ids.status, { children: texts.failed });
        },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 }
      );
      return texts.locating;
    },
    // A tap on the map of one's own area sets the location there.
    onMapClick: function (click) {
      if (!click || !click.latlng) return window.dash_clientside.no_update;
      const ll = click.latlng;
      const lat = Array.isArray(ll) ? ll[0] : ll.lat;
      const lon = Array.isArray(ll) ? ll[1] : ll.lng;
      return { lon: lon, lat: lat, source: "map" };
    },
    onLocation: function (where, texts) {
      const nu = window.dash_clientside.no_update;
      if (!where) return [nu, Object.assign({}, PIN, { weight: 0, opacity: 0, fillOpacity: 0 }), texts.none];
      gw.report.fixes += 1;
      const text = fill(texts.chosen, {
        lon: Number(where.lon).toFixed(6), lat: Number(where.lat).toFixed(6), source: texts[where.source] || "",
      });
      return [[where.lat, where.lon], PIN, text];
    },
    onFiles: function (names, texts) {
      const list = names ? (Array.isArray(names) ? names : [names]) : [];
      if (!list.length) return "";
      return fill(texts.photos, { count: list.length, names: list.join("、") });
    },
    // A report was filed: clear the form for the next one (the category stays, it often repeats).
    onDone: function (done) {
      if (!done) return window.dash_clientside.no_update;
      const set = window.dash_clientside.set_props;
      set("gw-report-description", { value: "" });
      set("gw-report-upload", { contents: null, filename: null });
      set("gw-report-upload-list", { children: "" });
      set(ids.location, { data: null });
      return done.case_id;
    },
  };
})();
