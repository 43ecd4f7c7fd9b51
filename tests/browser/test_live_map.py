"""The real app in headless Chromium: the map draws, and a grid's colour follows its events."""

from __future__ import annotations

import time

import pytest
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from domain.levels import LEVEL_COLOURS
from geo.hierarchy import Level
from layouts import ids
from streams.aggregates import publish_levels
from streams.ingest import append_events
from streams.keys import RedisKeys
from tests.browser.conftest import ARTIFACTS
from tests.browser.full_city import RunningApp
from tests.browser.helpers import js, poll, sign_in
from tests.integration.events import gate_event, inside
from tests.processes import start, stop

pytestmark = pytest.mark.browser
LIVE = "const s = document.getElementById('gw-status'); return !!s && s.classList.contains('gw-status-live')"


# The RGBA of the canvas pixel under a point of a layer.
PIXEL = """
const [code, lon, lat] = arguments;
const layer = gw.layers[code]; const map = layer._map; const r = layer._renderer;
const lp = map.latLngToLayerPoint([lat, lon]); const dpr = window.devicePixelRatio || 1;
const x = Math.round((lp.x - r._bounds.min.x) * dpr), y = Math.round((lp.y - r._bounds.min.y) * dpr);
return Array.from(r._container.getContext('2d').getImageData(x, y, 1, 1).data);
"""


def grids_drawn(browser: webdriver.Chrome, prefix: str) -> int:
    """Count grid layers on the map whose code starts with prefix."""
    return int(
        js(
            browser,
            "return Object.values(gw.layers).filter(l => l._map && l.feature.properties.level === 4"
            " && l.feature.properties.code.startsWith(arguments[0])).length",
            prefix,
        )
    )


def test_grid_colour_follows_events(running_app: RunningApp, browser: webdriver.Chrome) -> None:
    city = running_app.city
    district = city.at_level(Level.DISTRICT)[0]
    grids = city.grids_under(district.code)
    target = city.get(grids[len(grids) // 2])
    lon, lat = inside(target)

    sign_in(browser, running_app.url, "ops")
    started = time.monotonic()
    browser.get(f"{running_app.url}/?district={district.code}")
    poll(
        browser,
        "return window.gw && Object.values(gw.layers).filter(l => l._map && "
        "l.feature.properties.level === 4).length >= arguments[0]",
        len(grids),
        timeout=30,
    )
    drawn_after = time.monotonic() - started
    poll(browser, LIVE)
    # Let the first resync land, then read the grid's colour as painted.
    poll(browser, "return gw.resyncs > 0 && gw.lastData !== undefined")  # the snapshot has landed
    time.sleep(0.3)
    before_fill = js(browser, "return gw.layers[arguments[0]].options.fillColor", target.code)
    before_pixel = js(browser, PIXEL, target.code, lon, lat)
    assert before_fill == LEVEL_COLOURS[0]

    sent = time.monotonic()
    append_events(running_app.redis, "gw:ingest", [gate_event(lon, lat, device=f"T{i}") for i in range(45)])
    poll(
        browser,
        "return gw.layers[arguments[0]].options.fillColor === arguments[1]",
        target.code,
        LEVEL_COLOURS[4],
        timeout=10,
    )
    seen_after = time.monotonic() - sent
    after_pixel = poll(
        browser,
        "const p = (function(){" + PIXEL + "}).apply(null, arguments);"
        "return JSON.stringify(p) !== arguments[3] ? p : null",
        target.code,
        lon,
        lat,
        str(before_pixel).replace(" ", ""),
    )
    assert after_pixel != before_pixel
    # The district and street above the grid were recoloured from the same delta (mean per grid).
    assert js(browser, "return gw.levels[arguments[0]]", target.code) == 4

    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "browser-live-map.png"))
    print(f"\nmap drawn {drawn_after:.2f} s after navigation; grid recoloured {seen_after:.2f} s after XADD")

    # Nothing but the app itself was fetched: no CDN, no tiles, no web fonts.
    origins = js(browser, "return performance.getEntriesByType('resource').map(e => new URL(e.name).origin)")
    assert set(origins) <= {running_app.url}, set(origins)
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == [], severe


def test_city_view_and_drill_down_by_click(running_app: RunningApp, browser: webdriver.Chrome) -> None:
    city = running_app.city
    sign_in(browser, running_app.url, "ops")
    streets = len(city.at_level(Level.STREET))
    poll(
        browser,
        "return window.gw && Object.values(gw.layers).filter(l => l._map && "
        "l.feature.properties.level === 2).length === arguments[0]",
        streets,
        timeout=30,
    )
    assert (
        js(browser, "return Object.values(gw.layers).filter(l => l._map && l.feature.properties.level === 4).length")
        == 0
    )
    street = city.at_level(Level.STREET)[0]
    slon, slat = inside(street)
    # The map has been fitted to the city and has not moved for a while (no fit is pending).
    poll(browser, "return gw.fitted !== undefined && Date.now() - gw.fitted > 1000")

    # Click the street where it is drawn: the map loads that district's grids and zooms to it.
    x, y = js(
        browser,
        "const l = gw.layers[arguments[0]]; const p = l._map.latLngToContainerPoint("
        "[arguments[2], arguments[1]]); return [p.x, p.y]",
        street.code,
        slon,
        slat,
    )
    map_el = browser.find_element(By.ID, ids.MAP)
    size = map_el.size
    ActionChains(browser).move_to_element_with_offset(
        map_el, round(x - size["width"] / 2), round(y - size["height"] / 2)
    ).click().perform()
    district = city.district_of(street.code)
    assert district is not None
    expected = len(city.grids_under(district))
    deadline = time.monotonic() + 30
    while (drawn := grids_drawn(browser, district)) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    state = js(browser, "return [gw.selection, gw.leaflet.getZoom(), Object.keys(gw.layers).length]")
    assert drawn == expected, state
    crumb = poll(
        browser,
        "return document.getElementById('gw-breadcrumb').textContent.includes(arguments[0])"
        " && document.getElementById('gw-breadcrumb').textContent",
        city.get(district).name,
    )
    assert city.get(district).name in crumb


def test_status_turns_stale_when_data_stops_and_live_when_it_resumes(
    running_app: RunningApp, browser: webdriver.Chrome
) -> None:
    sign_in(browser, running_app.url, "ops")
    poll(browser, LIVE)
    stop(running_app.worker)  # the socket stays up, but no KPIs or deltas arrive any more
    stale = poll(
        browser,
        "const s = document.getElementById('gw-status');"
        "return s.classList.contains('gw-status-stale') && s.textContent",
        timeout=15,
    )
    assert "数据已过期" in stale
    running_app.worker = start(["worker", "--name", "browser-test"], running_app.env, running_app.log)
    poll(browser, LIVE, timeout=30)


def test_a_district_leader_cannot_reach_another_district(running_app: RunningApp, browser: webdriver.Chrome) -> None:
    city = running_app.city
    mine, other = city.at_level(Level.DISTRICT)[1], city.at_level(Level.DISTRICT)[0]
    # By URL: the page stays on their own district.
    sign_in(browser, running_app.url, "leader", then=f"/?district={other.code}")
    poll(
        browser,
        "return Object.values(gw.layers).filter(l => l._map && l.feature.properties.level === 4).length"
        " === arguments[0]",
        len(city.grids_under(mine.code)),
        timeout=30,
    )
    drawn = js(browser, "return Object.keys(gw.layers).filter(c => gw.layers[c]._map)")
    assert all(c == mine.code or mine.code in city.ancestors(c) for c in drawn)
    assert other.name not in browser.find_element(By.ID, "gw-breadcrumb").text
    # By API and by a crafted callback from inside the page: refused.
    status = js(
        browser, "return fetch('/api/v1/geo/grid/' + arguments[0] + '.geojson').then(r => r.status)", other.code
    )
    assert status == 403
    crafted = js(
        browser,
        """
        return fetch('/_dash-update-component', {method: 'POST', headers: {'Content-Type': 'application/json'},
          body: JSON.stringify({output: 'gw-selection.data', outputs: {id: 'gw-selection', property: 'data'},
            inputs: [{id: 'gw-layer-street', property: 'clickData', value: {properties: {code: arguments[0]}}},
                     {id: 'gw-layer-grid', property: 'n_clicks', value: null},
                     {id: 'gw-breadcrumb-city', property: 'n_clicks', value: null},
                     {id: 'gw-location', property: 'search', value: ''}],
            changedPropIds: ['gw-layer-street.clickData'],
            state: [{id: 'gw-layer-grid', property: 'clickData', value: null},
                    {id: 'gw-selection', property: 'data', value: null}]})}).then(r => r.status)""",
        other.code,
    )
    assert crafted == 204
    # By socket: a level pushed for the other district never reaches this page.
    other_grid = city.grids_under(other.code)[0]
    mine_grid = city.grids_under(mine.code)[0]
    js(
        browser,
        "window.__seen = []; const f = gw.applyLevels; gw.applyLevels = function (l) "
        "{ window.__seen.push(...Object.keys(l)); return f(l); }",
    )
    append_events(
        running_app.redis,
        "gw:ingest",
        [gate_event(*inside(city.get(c)), device=f"L{i}{c}") for c in (other_grid, mine_grid) for i in range(3)],
    )
    poll(browser, "return window.__seen.includes(arguments[0])", mine_grid, timeout=15)
    seen = js(browser, "return window.__seen")
    assert other_grid not in seen
    assert all(c == mine.code or mine.code in city.ancestors(c) for c in seen)


def test_a_restarted_sequence_resyncs_and_names_are_text(running_app: RunningApp, browser: webdriver.Chrome) -> None:
    sign_in(browser, running_app.url, "ops")
    poll(browser, "return gw.resyncs > 0 && gw.lastData !== undefined && Object.keys(gw.layers).length > 100")
    # Redis lost its data and the sequence starts again at 1: the screen must resync, not freeze.
    before = js(browser, "gw.seq = 5000; return gw.resyncs")
    js(browser, "gw.onLevels({seq: 1, ts: 0, levels: {}})")
    poll(browser, "return gw.resyncs > arguments[0]", before)
    # A late duplicate just after a resync changes nothing and triggers no new resync.
    settled = poll(browser, "return gw.seq < 5000 && gw.resyncs")
    js(browser, "gw.onLevels({seq: gw.seq, ts: 0, levels: {}})")
    time.sleep(0.3)
    assert js(browser, "return gw.resyncs") == settled
    # Unit names from imported files are shown as text, never parsed as HTML.
    street = running_app.city.at_level(Level.STREET)[0].code
    assert js(
        browser,
        "const c = gw.layers[arguments[0]].getTooltip().getContent();"
        "return c instanceof HTMLElement && c.children.length === 0",
        street,
    )


def test_deltas_that_arrive_together_are_each_applied_in_order(
    running_app: RunningApp, browser: webdriver.Chrome
) -> None:
    """A busy page gets several deltas at once: it applies each of them, and reads no snapshot."""
    streets = [u.code for u in running_app.city.at_level(Level.STREET)[:12]]
    sign_in(browser, running_app.url, "ops")
    poll(browser, LIVE)
    # Every snapshot read so far (page load, connect) has landed; record what is applied from now on.
    poll(browser, "return gw.resyncs > 0 && gw.resyncApplied === gw.resyncs && Object.keys(gw.layers).length > 100")
    resyncs = js(
        browser,
        "window.__applied = []; const f = gw.applyLevels;"
        "gw.applyLevels = function (l) { window.__applied.push(Object.keys(l)); return f(l); }; return gw.resyncs",
    )
    # The main thread is busy for a second and a half (a wall PC drawing, a slow machine), and the
    # deltas arrive meanwhile: they reach the page back to back.
    js(browser, "setTimeout(function () { const t = performance.now(); while (performance.now() - t < 1500) {} }, 0)")
    time.sleep(0.2)
    sent = {code: 1 + i % (len(LEVEL_COLOURS) - 1) for i, code in enumerate(streets)}
    seqs = [publish_levels(running_app.redis, RedisKeys(), {code: level}) for code, level in sent.items()]
    poll(browser, "return gw.seq >= arguments[0]", seqs[-1], timeout=15)
    time.sleep(0.3)  # a resync started by a false gap would have been counted by now
    assert js(browser, "return gw.resyncs") == resyncs
    applied = js(browser, "return window.__applied")
    mine = [keys for keys in applied if set(keys) & set(sent)]
    assert mine == [[code] for code in streets], applied
    fills = js(browser, "return arguments[0].map(c => gw.layers[c].options.fillColor)", streets)
    assert fills == [LEVEL_COLOURS[sent[c]] for c in streets]
