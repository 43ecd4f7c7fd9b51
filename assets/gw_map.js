/* Gridwatch map: one Leaflet layer per unit code, recoloured in place by pushed deltas.
 * Colour-only updates call setStyle on the changed layers (measured ~22 ms for 100 grids,
 * shared/research/map-lod.md); geometry is never re-sent. */
(function () {
  "use strict";
  const gw = (window.gw = window.gw || {});
  gw.colours = ["#1b2a3a", "#1f6f5c", "#c9a227", "#e0662b", "#d7263d"];
  gw.layers = {};   // unit code -> Leaflet layer currently drawn
  gw.levels = {};   // unit code -> last known colour level
  gw.seq = 0;       // sequence number of the last applied delta
  gw.updates = 0;   // deltas applied (for tests and diagnostics)
  gw.resyncs = 0;
  gw.resyncApplied = 0; // the number of the resync whose snapshot was applied last
  gw.syncing = 0;   // snapshot reads in flight
  gw.pending = [];  // deltas that arrived meanwhile: applied after the snapshot, in order
  gw.staleAfterMs = 5000;
  // Resolved (with its performance.now()) in the first frame after the first view is drawn and
  // coloured from a snapshot: what is not the map (the wall's charts) waits for it.
  let markDrawn;
  gw.drawn = new Promise(function (resolve) {
    markDrawn = resolve;
  });

  function checkDrawn() {
    if (gw.isDrawn || !gw.leaflet || !gw.resyncApplied || gw.fitted === undefined) return;
    gw.isDrawn = true;
    requestAnimationFrame(function () {
      markDrawn(performance.now());
    });
  }

  function fill(level) {
    return gw.colours[level] || gw.colours[0];
  }

  gw.map = {
    fillStyle: function (feature) {
      const level = gw.levels[feature.properties.code] || 0;
      return { fillColor: fill(level), fillOpacity: 0.78, color: "#0b1622", weight: 0.6, opacity: 0.9 };
    },
    outlineStyle: function () {
      return { fill: false, color: "#8ecae6", weight: 2.2, opacity: 0.95 };
    },
    register: function (feature, layer) {
      const p = feature.properties;
      gw.layers[p.code] = layer;
      if (!gw.leaflet) {
        layer.once("add", function () {
          gw.attach(layer._map);
        });
      }
      if (layer.bindTooltip && p.level !== 1) {
        const label = document.createElement("span");
        label.textContent = p.name; // names come from imported files: text, never HTML
        layer.bindTooltip(label, { sticky: true, className: "gw-tooltip" });
      }
    },
    // Outlines must never take a click: Leaflet's canvas hit test gives a click to the topmost
    // polygon containing the point (fill or not), and dash-leaflet's `interactive=False` on the
    // GeoJSON does not reach its features.
    registerOutline: function (feature, layer) {
      layer.options.interactive = false;
      gw.map.register(feature, layer);
    },
    focusStyle: function () {
      return { fill: false, color: "#ffffff", weight: 3.5, opacity: 1, dashArray: "6 4" };
    },
    registerFocus: function (feature, layer) {
      layer.options.interactive = false;
      gw.focusLayer = layer;
    },
  };

  // The map mounts before the stylesheet gives its container a size, so a fit done then is
  // wrong; re-fit to the current selection whenever the container's size changes.
  gw.attach = function (map) {
    if (gw.leaflet || !map) return;
    gw.leaflet = map;
    new ResizeObserver(function () {
      map.invalidateSize({ animate: false });
      gw.fit();
    }).observe(map.getContainer());
    checkDrawn();
  };

  gw.fit = function () {
    if (!gw.leaflet || !gw.selection) return;
    const b = gw.selection.bounds;
    const size = gw.leaflet.getSize();
    if (!size.x || !size.y) return; // not laid out yet: the resize observer fits later
    gw.leaflet.fitBounds([[b[1], b[0]], [b[3], b[2]]], { animate: false });
    gw.fitted = Date.now();
    gw.fits = (gw.fits || 0) + 1;
    checkDrawn();
  };

  gw.applyLevels = function (levels) {
    for (const code in levels) {
      const level = levels[code];
      gw.levels[code] = level;
      const layer = gw.layers[code];
      // A resync repeats mostly unchanged levels: restyling those would only queue redraws.
      if (layer && layer.setStyle && layer.feature && layer.feature.properties.level !== 1) {
        const colour = fill(level);
        if (layer.options.fillColor !== colour) layer.setStyle({ fillColor: colour });
      }
    }
    gw.updates += 1;
  };

  gw.setKpis = function (display) {
    if (!display) return;
    const nodes = document.querySelectorAll(".gw-kpi-value");
    display.forEach(function (text, i) {
      if (nodes[i]) nodes[i].textContent = text;
    });
  };

  gw.resync = function () {
    const mine = ++gw.resyncs;
    gw.syncing += 1;
    return fetch("/api/v1/map/snapshot", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (!r.ok) throw new Error("snapshot " + r.status);
        return r.json();
      })
      .then(function (snap) {
        if (mine < gw.resyncApplied) return; // a later resync's (newer) answer came first
        gw.resyncApplied = mine;
        // Units missing from the snapshot are quiet (level 0).
        const all = {};
        for (const code in gw.levels) all[code] = 0;
        Object.assign(all, snap.levels);
        gw.applyLevels(all);
        gw.seq = snap.seq;
        gw.lastData = Date.now();
        gw.setKpis(snap.kpis_display);
        checkDrawn();
      })
      .catch(function (err) {
        console.warn("gridwatch resync failed", err);
      })
      .finally(function () {
        gw.syncing -= 1;
        if (gw.syncing > 0) return;
        // What arrived while the snapshot was on its way: what it already holds is skipped,
        // the rest is applied in order (or shows a real gap, which reads the snapshot again).
        const queued = gw.pending;
        gw.pending = [];
        queued.forEach(gw.onLevels);
      });
  };

  // One level delta from the socket, in the order the server sent them. Sequence numbers
  // follow on (seq + 1); anything else is a missed push or a restarted sequence (Redis lost its
  // data), and the snapshot is the truth.
  gw.onLevels = function (msg) {
    if (!msg) return;
    gw.lastData = Date.now();
    if (gw.syncing > 0) {
      gw.pending.push(msg);
    } else if (gw.seq === 0 || msg.seq === gw.seq + 1) {
      gw.applyLevels(msg.levels);
      gw.seq = msg.seq;
    } else if (msg.seq <= gw.seq && gw.seq - msg.seq < 100) {
      // a late push already contained in the snapshot we synced from: nothing to do
    } else {
      gw.resync();
    }
  };

  // DashSocketIO turns each Socket.IO message into a prop change, and Dash runs a callback with
  // whatever the prop holds when it gets round to it: two deltas that arrive while the page is
  // busy reach a callback as one, the page sees a gap and re-reads the whole snapshot (267 KB
  // for the demo city; docs/performance.md). The component keeps its socket to itself (its
  // socket.io client is bundled inside it: no `io` global, no handle on the instance), but it
  // hands every message to setProps from the socket's own event handler, one call a message, in
  // order. So the component is wrapped: deltas go from there to gw.onLevels and never into
  // Dash; everything else (connected, socketId, other events) goes on to Dash as before. One
  // connection, the component's own.
  //
  // The wrapper also gives the socket its reconnect pacing. Socket.IO's default back-off grows to
  // 5 s (±50 %), so a screen could wait 7.5 s after the server came back. The component builds its
  // socket in a useMemo keyed on the `options` prop's identity, and Dash hands it a new object at
  // every re-render of the page, which would drop and rebuild the socket (the duty desk then missed
  // pushes): so the options are one frozen object, given here, never from the layout.
  const SOCKET_OPTIONS = Object.freeze({ reconnectionDelay: 500, reconnectionDelayMax: 2000 });
  function tapSocket() {
    const lib = window.dash_socketio;
    const React = window.React;
    if (!lib || !lib.DashSocketIO || !React) return false;
    if (lib.DashSocketIO.gwTapped) return true;
    const Component = lib.DashSocketIO;
    function GwSocketIO(props) {
      const latest = React.useRef(props.setProps);
      latest.current = props.setProps;
      // Stable: the component subscribes to the socket once and keeps the setProps it saw then.
      const setProps = React.useCallback(function (changed) {
        if (!changed || !("data-levels" in changed)) return latest.current(changed);
        gw.onLevels(changed["data-levels"]);
        const rest = Object.assign({}, changed);
        delete rest["data-levels"];
        if (Object.keys(rest).length) latest.current(rest);
      }, []);
      return React.createElement(Component, Object.assign({}, props, { setProps: setProps, options: SOCKET_OPTIONS }));
    }
    Object.assign(GwSocketIO, Component); // propTypes, defaultProps: what Dash reads off the type
    GwSocketIO.gwTapped = true;
    lib.DashSocketIO = GwSocketIO; // Dash looks components up by name at each render
    return true;
  }
  // Component scripts load before assets, so the library is here; say so loudly if not.
  if (!tapSocket()) console.warn("gridwatch: dash_socketio not loaded before gw_map.js; deltas go through Dash");

  // Fetch the map's snapshot and its city-zoom geometry (into the HTTP cache, where the layers'
  // own requests find it) and dash-leaflet's GeoJSON code as early as possible, in parallel:
  // waiting for Dash's start-up, the page callback and the layers' code first made the first
  // render of /wall slower (docs/performance.md). The connect still resyncs, covering pushes
  // sent in between.
  function prefetch() {
    if (gw.resyncs === 0) gw.resync();
    ["/api/v1/geo/street.geojson", "/api/v1/geo/district.geojson"].forEach(function (url) {
      fetch(url, { credentials: "same-origin" })
        .then(function (r) {
          return r.arrayBuffer();
        })
        .catch(function () {}); // only a head start: the layer fetches it again if this failed
    });
    const leaflet = document.querySelector('script[src*="/dash_leaflet/dash_leaflet."]');
    if (leaflet) {
      const link = document.createElement("link");
      link.rel = "preload";
      link.as = "script";
      link.href = leaflet.src.replace(/dash_leaflet\.[^/]*$/, "async-GeoJSON.js");
      document.head.appendChild(link);
    }
  }
  // The pages that show the map start at once; any other waits until a map mounts.
  const MAP_PAGES = ["/", "/wall", "/leader"];
  if (MAP_PAGES.indexOf(location.pathname.replace(/\/+$/, "") || "/") >= 0) {
    prefetch();
  } else {
    const mounted = new MutationObserver(function () {
      if (!document.getElementById("gw-map")) return;
      mounted.disconnect();
      prefetch();
    });
    mounted.observe(document.documentElement, { childList: true, subtree: true });
  }

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.gw = {
    onKpis: function (msg) {
      if (!msg) return window.dash_clientside.no_update;
      gw.lastData = Date.now();
      return msg.display || window.dash_clientside.no_update;
    },
    // Live only while connected AND data keeps arriving (KPIs come every tick): a worker or
    // aggregator outage shows as stale even though the socket is up. A page whose feed is quiet
    // when nothing happens (the duty desk: freshMs 0) is live while connected.
    onStatus: function (connected, _tick, liveText, staleText, freshMs, socketId) {
      // A new socket id is a new connection even when Dash never showed us the "disconnected"
      // in between (two quick prop changes reach a callback as one).
      if (connected && (!gw.wasConnected || (socketId && socketId !== gw.socketId))) {
        // (re)connected: pushes may have been missed meanwhile, so every feed on the page resyncs
        gw.connects = (gw.connects || 0) + 1;
        if (document.getElementById("gw-map")) gw.resync();
        if (gw.alerts) gw.alerts.resync();
      }
      gw.wasConnected = !!connected;
      if (connected && socketId) gw.socketId = socketId;
      const maxAge = typeof freshMs === "number" ? freshMs : gw.staleAfterMs;
      const fresh = connected && (maxAge === 0 || (gw.lastData && Date.now() - gw.lastData < maxAge));
      if (fresh) {
        gw.staleSince = null;
        return [liveText, "gw-status gw-status-live"];
      }
      gw.staleSince = gw.staleSince || new Date(gw.lastData || Date.now());
      return [staleText.replace("{since}", gw.staleSince.toLocaleTimeString()), "gw-status gw-status-stale"];
    },
    onSelection: function (selection) {
      if (!selection) return window.dash_clientside.no_update;
      gw.selection = selection;
      gw.fit();
      return selection.unit ? "/api/v1/geo/grid/" + selection.unit + ".geojson" : "/api/v1/geo/empty.geojson";
    },
    // The selected unit's outline (none for the city as a whole).
    onFocus: function (selection) {
      if (!selection || !selection.focus || !selection.level || selection.level === "city") {
        return "/api/v1/geo/empty.geojson";
      }
      return "/api/v1/geo/" + selection.level + "/" + selection.focus + ".geojson";
    },
  };
})();
