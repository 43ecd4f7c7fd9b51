/* Gridwatch alerts in the browser: the duty desk's queue and the command center's ticker.
 *
 * Pushes ("alerts" on the socket) carry changed alerts in wire form and a sequence number;
 * each alert carries a version. A copy older than the one shown is ignored, so late and
 * repeated pushes are harmless. A gap in the sequence (a push was missed), or a reconnect,
 * resyncs from GET /api/v1/alerts, whose seq says where the pushes take over.
 *
 * Rows are built here, as text (never HTML): one <li id="gw-alert-ID" data-alert-id="ID">
 * per alert, blinking while nobody has acknowledged it. The duty desk also rings a looping
 * tone for the most severe unacknowledged alert, and counts down to each alert's next
 * escalation (wire field escalates_at; no countdown without it). Strings come from the
 * page (the catalog), never from this file. */
(function () {
  "use strict";
  const gw = (window.gw = window.gw || {});
  const RANK = { critical: 4, high: 3, warning: 2, info: 1 };
  const QUEUE = "gw-alert-queue";
  const SELECTED = "gw-alert-selected";
  const SOUND_TOGGLE = "gw-sound-toggle";
  const RESTARTED = 1000; // a sequence this far behind ours means the counter started again

  const A = (gw.alerts = {
    byId: new Map(), // id -> alert (wire form) currently held
    touched: new Map(), // id -> performance.now() of the last change applied
    shownAt: new Map(), // id -> epoch ms when its row first entered the page (tests, diagnostics)
    seq: 0, // sequence number of the last push applied in order
    early: new Set(), // sequence numbers seen while a resync was under way
    resyncing: false,
    resyncAgain: false,
    resyncs: 0,
    pushes: 0,
    gaps: 0,
    texts: null,
    filter: { severity: null, state: null, grids: null },
    selected: null,
    sound: { enabled: true, blocked: false, playing: null },
  });

  function queue() {
    return document.getElementById(QUEUE);
  }

  function fill(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (m, k) {
      return k in values ? String(values[k]) : m;
    });
  }

  // Hand a value to Dash (a store has no DOM element, so ask Dash, not the document, whether it exists).
  function setProps(id, props) {
    const dc = window.dash_clientside;
    if (!dc || !dc.set_props) return;
    try {
      dc.set_props(id, props);
    } catch (err) {
      // not on this page (the ticker has no action bar)
    }
  }

  // -- ordering and filtering ------------------------------------------------------------------
  // Most severe first, then the most recent (the API's order).
  function before(a, b) {
    const r = (RANK[b.severity] || 0) - (RANK[a.severity] || 0);
    if (r !== 0) return r < 0;
    if (a.last_seen !== b.last_seen) return a.last_seen > b.last_seen;
    return a.id > b.id;
  }

  function shown(a) {
    const f = A.filter;
    if (a.state === "closed") return false;
    if (f.severity && f.severity.indexOf(a.severity) < 0) return false;
    if (f.state && f.state.indexOf(a.state) < 0) return false;
    if (f.grids && !f.grids.has(a.unit)) return false;
    return true;
  }

  // -- rows ------------------------------------------------------------------------------------
  function span(cls, text) {
    const s = document.createElement("span");
    s.className = cls;
    s.textContent = text;
    return s;
  }

  function countdownText(at) {
    const t = A.texts;
    const left = Math.round((Date.parse(at) - Date.now()) / 1000);
    if (!(left > 0)) return t.escalation_due;
    const h = Math.floor(left / 3600),
      m = Math.floor((left % 3600) / 60),
      s = left % 60;
    const mmss = String(m).padStart(h ? 2 : 1, "0") + ":" + String(s).padStart(2, "0");
    return fill(t.escalates_in, { time: h ? h + ":" + mmss : mmss });
  }

  function buildRow(a, li) {
    const t = A.texts;
    li = li || document.createElement("li");
    li.id = "gw-alert-" + a.id;
    li.dataset.alertId = String(a.id);
    li.dataset.state = a.state;
    li.dataset.severity = a.severity;
    li.dataset.version = String(a.version);
    li.className =
      "gw-alert gw-sev-" + a.severity + " gw-state-" + a.state +
      (a.state === "new" ? " gw-blink" : "") +
      (A.selected === a.id ? " gw-selected" : "");
    const top = document.createElement("div");
    top.className = "gw-alert-line";
    top.append(
      span("gw-alert-sev", t.severity[a.severity] || a.severity),
      span("gw-alert-text", a.text),
      span("gw-alert-count", a.count > 1 ? fill(t.count, { count: a.count }) : ""),
      span("gw-alert-state", t.state[a.state] || a.state)
    );
    const bottom = document.createElement("div");
    bottom.className = "gw-alert-line gw-alert-detail";
    bottom.append(
      span("gw-alert-id", "#" + a.id),
      span("gw-alert-unit", a.unit_name || a.unit),
      span("gw-alert-time", new Date(a.first_seen).toLocaleTimeString(t.lang))
    );
    if (a.level_name) bottom.append(span("gw-alert-level", a.level_name));
    if (a.owner) bottom.append(span("gw-alert-owner", fill(t.owner, { owner: a.owner })));
    if (a.dispatched_to) bottom.append(span("gw-alert-dispatched", fill(t.dispatched_to, { to: a.dispatched_to })));
    if (a.cleared) bottom.append(span("gw-alert-cleared", t.cleared));
    if (a.escalates_at) {
      const c = span("gw-countdown", countdownText(a.escalates_at));
      c.dataset.escalatesAt = a.escalates_at;
      bottom.append(c);
    }
    li.replaceChildren(top, bottom);
    return li;
  }

  // Put a row where the order says, moving it only if it is out of place.
  function place(ul, li, a) {
    let next = null;
    for (const other of ul.children) {
      if (other === li) continue;
      const b = A.byId.get(Number(other.dataset.alertId));
      if (b && before(a, b)) {
        next = other;
        break;
      }
    }
    if (li.parentNode === ul && li.nextSibling === next) return;
    ul.insertBefore(li, next);
  }

  function renderOne(a) {
    const ul = queue();
    if (!ul || !A.texts) return;
    const existing = document.getElementById("gw-alert-" + a.id);
    if (!shown(a)) {
      if (existing) existing.remove();
      return;
    }
    const li = buildRow(a, existing);
    place(ul, li, a);
    if (!A.shownAt.has(a.id)) A.shownAt.set(a.id, performance.timeOrigin + performance.now());
  }

  function remove(id) {
    A.byId.delete(id);
    A.touched.delete(id);
    const li = document.getElementById("gw-alert-" + id);
    if (li) li.remove();
  }

  A.renderAll = function () {
    const ul = queue();
    if (!ul || !A.texts) return;
    const rows = Array.from(A.byId.values()).filter(shown);
    rows.sort(function (a, b) {
      return before(a, b) ? -1 : 1;
    });
    ul.replaceChildren.apply(
      ul,
      rows.map(function (a) {
        return buildRow(a, document.getElementById("gw-alert-" + a.id));
      })
    );
    const now = performance.timeOrigin + performance.now();
    rows.forEach(function (a) {
      if (!A.shownAt.has(a.id)) A.shownAt.set(a.id, now);
    });
  };

  // Apply one alert (a push, a resync, an action's answer); a copy older than ours is ignored.
  A.apply = function (a) {
    if (!a || typeof a.id !== "number") return false;
    const known = A.byId.get(a.id);
    if (known && typeof a.version === "number" && a.version < known.version) return false;
    A.touched.set(a.id, performance.now());
    if (a.state === "closed") {
      remove(a.id);
      return true;
    }
    A.byId.set(a.id, a);
    renderOne(a);
    return true;
  };

  function settle() {
    A.updateSound();
  }

  // -- the feed --------------------------------------------------------------------------------
  A.onPush = function (msg) {
    if (!msg) return;
    A.pushes += 1;
    (msg.alerts || []).forEach(A.apply);
    // An escalation asks every screen to signal again: a muted desk rings once more.
    if (msg.renotify && (msg.alerts || []).length && !A.sound.enabled) {
      A.sound.enabled = true;
      showToggle();
    }
    const seq = msg.seq;
    if (typeof seq === "number") {
      if (A.resyncing) {
        A.early.add(seq);
      } else if (A.seq === 0 || seq === A.seq + 1) {
        A.seq = seq;
      } else if (seq > A.seq + 1 || A.seq - seq > RESTARTED) {
        A.gaps += 1; // missed pushes (or a restarted counter): the API is the truth
        A.early.add(seq);
        A.resync();
      } // else a late or repeated push, already applied by version
    }
    settle();
  };

  A.resync = function () {
    if (!queue()) return Promise.resolve();
    if (A.resyncing) {
      A.resyncAgain = true;
      return A.pending;
    }
    A.resyncing = true;
    A.resyncs += 1;
    const started = performance.now();
    A.pending = fetch("/api/v1/alerts?limit=2000", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (!r.ok) throw new Error("alerts " + r.status);
        return r.json();
      })
      .then(function (snap) {
        const listed = new Set();
        snap.alerts.forEach(function (a) {
          listed.add(a.id);
          const known = A.byId.get(a.id);
          if (!known || !(a.version < known.version)) {
            A.byId.set(a.id, a);
            A.touched.set(a.id, performance.now());
          }
        });
        // Gone from the list (closed, or moved out of reach) unless a push brought it meanwhile.
        for (const id of Array.from(A.byId.keys())) {
          if (!listed.has(id) && !(A.touched.get(id) > started)) remove(id);
        }
        A.seq = snap.seq;
        while (A.early.has(A.seq + 1)) A.seq += 1;
        A.early.clear();
        A.renderAll();
      })
      .catch(function (err) {
        console.warn("gridwatch alert resync failed", err);
      })
      .finally(function () {
        A.resyncing = false;
        settle();
        if (A.resyncAgain) {
          A.resyncAgain = false;
          A.resync();
        }
      });
    return A.pending;
  };

  // -- countdowns ------------------------------------------------------------------------------
  A.tick = function () {
    if (!A.texts) return;
    document.querySelectorAll(".gw-countdown[data-escalates-at]").forEach(function (el) {
      el.textContent = countdownText(el.dataset.escalatesAt);
    });
  };

  // -- sound -----------------------------------------------------------------------------------
  // The most severe unacknowledged alert held rings, whatever the filters show: a filter must
  // never silence an alarm. Browsers refuse sound before the user has touched the page; then the
  // toggle says so, and a click on it (a user gesture) lets the tone play.
  function unacknowledgedTop() {
    let top = null;
    A.byId.forEach(function (a) {
      if (a.state === "new" && (!top || RANK[a.severity] > RANK[top])) top = a.severity;
    });
    return top;
  }

  function showToggle() {
    const t = A.texts;
    if (!t || !document.querySelector("audio[data-severity]")) return; // only the duty desk rings
    const s = A.sound;
    const label = s.blocked ? t.sound_blocked : s.enabled ? t.sound_off : t.sound_on;
    const cls = "gw-sound-toggle" + (s.blocked ? " gw-sound-blocked" : s.enabled ? " gw-sound-enabled" : "");
    setProps(SOUND_TOGGLE, { children: label, className: cls });
  }

  A.updateSound = function () {
    const players = document.querySelectorAll("audio[data-severity]");
    if (!players.length) return;
    const want = A.sound.enabled ? unacknowledgedTop() : null;
    players.forEach(function (el) {
      if (el.dataset.severity === want) {
        if (el.paused) {
          const started = el.play();
          if (started && started.then) {
            started.then(
              function () {
                if (A.sound.blocked) {
                  A.sound.blocked = false;
                  showToggle();
                }
              },
              function (err) {
                if (err && err.name === "NotAllowedError" && !A.sound.blocked) {
                  A.sound.blocked = true;
                  showToggle();
                }
              }
            );
          }
        }
      } else if (!el.paused) {
        el.pause();
        el.currentTime = 0;
      }
    });
    A.sound.playing = want;
  };

  A.toggleSound = function () {
    const s = A.sound;
    s.enabled = s.blocked ? true : !s.enabled; // a blocked tone is unblocked by this very click
    s.blocked = false;
    A.updateSound();
    showToggle();
  };

  // -- selection (duty desk) -------------------------------------------------------------------
  A.select = function (id) {
    A.selected = id;
    const ul = queue();
    if (ul) {
      ul.querySelectorAll(".gw-selected").forEach(function (li) {
        li.classList.remove("gw-selected");
      });
      const li = document.getElementById("gw-alert-" + id);
      if (li) li.classList.add("gw-selected");
    }
    setProps(SELECTED, { data: id });
  };

  A.attach = function () {
    const ul = queue();
    if (!ul || ul.dataset.attached) return;
    ul.dataset.attached = "1";
    if (ul.classList.contains("gw-alert-selectable")) {
      ul.addEventListener("click", function (ev) {
        const li = ev.target.closest("li[data-alert-id]");
        if (li) A.select(Number(li.dataset.alertId));
      });
    }
    if (!A.timer) A.timer = setInterval(A.tick, 1000);
  };

  // -- Dash callbacks --------------------------------------------------------------------------
  const no = function () {
    return window.dash_clientside.no_update;
  };
  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.gw_alerts = {
    onMount: function (texts) {
      if (!texts) return no();
      A.texts = texts;
      A.attach();
      showToggle();
      A.resync();
      return no();
    },
    onPush: function (msg) {
      A.onPush(msg);
      return no();
    },
    onResult: function (alert) {
      if (alert) {
        A.apply(alert);
        settle();
      }
      return no();
    },
    onFilter: function (severity, state, grids) {
      A.filter = { severity: severity || [], state: state || [], grids: grids ? new Set(grids) : null };
      A.renderAll();
      return no();
    },
    onSelected: function (id, texts) {
      if (id === null || id === undefined || !texts) return no();
      const a = A.byId.get(id);
      const label = fill(texts.selected, { id: id });
      return a ? label + " · " + a.text + " · " + (a.unit_name || a.unit) : label;
    },
    onSoundToggle: function (clicks) {
      if (clicks) A.toggleSound();
      return no();
    },
  };
})();
