// The console's only script (served from the bundle at /console/static/console.js; the CSP allows
// no inline script). No framework: three small jobs on plain DOM.
//  (a) Every element with data-live="<fragment url>" is fetched again every data-live-seconds
//      seconds and its innerHTML replaced. On a non-2xx answer, a network error or a lost session
//      the old content stays, marked "out of date" in words, and polling goes on.
//  (b) Every <time data-age datetime="…"> says how old its data is ("updated 12 s ago").
//  (c) Every [data-chart] is drawn with uPlot (loaded by the charts page) from its data-chart-src
//      JSON and redrawn as often.
//  (d) Every [data-events] list follows its server-sent event stream (EventSource, resuming by
//      Last-Event-ID) and puts each event on top; after repeated errors it falls back to (a).
// Polling pauses while the tab is hidden and catches up as soon as it is shown again.
(function () {
  "use strict";

  var DEFAULT_SECONDS = 15;
  var MIN_SECONDS = 2;

  function seconds(el) {
    var n = Number(el.getAttribute("data-live-seconds"));
    return Number.isFinite(n) && n >= MIN_SECONDS ? n : DEFAULT_SECONDS;
  }

  function agoText(s) {
    if (s < 90) return s + " s ago";
    var min = Math.round(s / 60);
    if (min < 120) return min + " min ago";
    return Math.floor(min / 60) + " h " + (min % 60) + " min ago";
  }

  // (b) The server's time against the browser's clock: a clock that runs behind never shows a
  // negative age.
  function updateAges(root) {
    var times = (root || document).querySelectorAll("time[data-age]");
    for (var i = 0; i < times.length; i++) {
      var el = times[i];
      var at = Date.parse(el.getAttribute("datetime") || "");
      if (!Number.isFinite(at)) continue;
      if (!el.title) el.title = new Date(at).toISOString().replace("T", " ").slice(0, 19) + " UTC";
      el.textContent = "updated " + agoText(Math.max(0, Math.round((Date.now() - at) / 1000)));
    }
  }

  /** A sentence before `el` saying its content is out of date and why; removed on the next success. */
  function markOutOfDate(el, why) {
    el.classList.add("out-of-date");
    var note = el.previousElementSibling;
    if (!note || !note.classList.contains("out-of-date-note")) {
      note = document.createElement("p");
      note.className = "out-of-date-note";
      note.setAttribute("role", "status");
      el.parentNode.insertBefore(note, el);
    }
    var at = new Date().toISOString().slice(11, 19);
    note.textContent = "Out of date: " + why + " (last try " + at + " UTC). Showing the last data received; retrying.";
  }

  function markFresh(el) {
    el.classList.remove("out-of-date");
    var note = el.previousElementSibling;
    if (note && note.classList.contains("out-of-date-note")) note.remove();
  }

  /** Why a fetch cannot be used, in words; null when it can. */
  function problemOf(res) {
    // Fetch follows the session check's redirect to the sign-in page: its HTML is not the fragment.
    if (res.redirected && new URL(res.url).pathname === "/console/login") return "the session has ended, sign in again";
    if (!res.ok) return "the server answered " + res.status + (res.statusText ? " " + res.statusText : "");
    return null;
  }

  /**
   * A GET that gives up after `seconds`: a request that never answers must not hold the poller's
   * "running" flag forever (it would silently stop updating); it fails like a network error.
   */
  function get(url, accept, seconds) {
    /** @type {RequestInit} */
    var init = { credentials: "same-origin", headers: { accept: accept } };
    if (window.AbortSignal && AbortSignal.timeout) init.signal = AbortSignal.timeout(Math.max(10, seconds) * 1000);
    return fetch(url, init);
  }

  /** Runs `task` now and then every `everySeconds`, never two at once, skipping while hidden. */
  function every(everySeconds, task) {
    var running = false;
    function tick() {
      if (running || document.hidden) return;
      running = true;
      Promise.resolve()
        .then(task)
        .catch(function () {})
        .then(function () {
          running = false;
        });
    }
    setInterval(tick, everySeconds * 1000);
    document.addEventListener("visibilitychange", tick);
    return tick;
  }

  // (a)
  function startLive(el) {
    var url = el.getAttribute("data-live");
    var interval = seconds(el);
    var tick = every(interval, function () {
      return get(url, "text/html", interval)
        .then(function (res) {
          var problem = problemOf(res);
          if (problem) return markOutOfDate(el, problem);
          return res.text().then(function (html) {
            // An open <details> (a table someone is reading) stays open across the replacement.
            var open = [];
            el.querySelectorAll("details[id][open]").forEach(function (d) {
              open.push(d.id);
            });
            el.innerHTML = html;
            open.forEach(function (id) {
              var d = document.getElementById(id);
              if (d instanceof HTMLDetailsElement && el.contains(d)) d.open = true;
            });
            markFresh(el);
            updateAges(el);
            el.dispatchEvent(new CustomEvent("console:live-updated", { bubbles: true }));
          });
        })
        .catch(function () {
          markOutOfDate(el, "the server could not be reached");
        });
    });
    // (d) asks for a fresh copy at once when something it shows has changed.
    el.addEventListener("console:refresh", tick);
  }

  // (d) The HubSpot event feed.
  var EVENT_NAMES = ["sync:start", "sync:progress", "sync:complete", "sync:error", "connection:status"];
  /** Errors in a row (no successful open between) after which the feed polls instead. */
  var MAX_STREAM_ERRORS = 3;

  function eventItem(name, data) {
    var li = document.createElement("li");
    li.className = "event";
    li.setAttribute("data-event", name);
    li.setAttribute("data-seq", String(data.seq));
    var time = document.createElement("time");
    time.setAttribute("datetime", data.at);
    time.textContent = String(data.at).replace("T", " ").slice(0, 19) + " UTC";
    var tag = document.createElement("span");
    tag.className = "event-name";
    tag.textContent = name;
    var words = document.createElement("span");
    words.className = "event-summary";
    words.textContent = data.summary;
    li.append(time, " ", tag, " ", words);
    return li;
  }

  function startEvents(list) {
    var status = list.parentNode.querySelector("[data-events-status]");
    var max = Number(list.getAttribute("data-events-max")) || 30;
    var url = list.getAttribute("data-events") + "?after=" + encodeURIComponent(list.getAttribute("data-events-after"));
    var source = new EventSource(url);
    var errors = 0;
    function say(text) {
      if (status) status.textContent = text;
    }
    source.onopen = function () {
      errors = 0;
      say("Live: following the event stream.");
    };
    EVENT_NAMES.forEach(function (name) {
      source.addEventListener(name, function (message) {
        var data;
        try {
          data = JSON.parse(message.data);
        } catch (e) {
          return;
        }
        // A reconnect resumes after the last id, so an event comes once; a duplicate is dropped anyway.
        if (list.querySelector('[data-seq="' + data.seq + '"]')) return;
        var empty = list.querySelector(".event:not([data-seq])");
        if (empty) empty.remove();
        list.insertBefore(eventItem(name, data), list.firstChild);
        while (list.children.length > max) list.lastElementChild.remove();
        say("Live: last event " + String(data.at).slice(11, 19) + " UTC.");
        // The sessions table changes with every event: refresh it now rather than at its next poll.
        document.querySelectorAll("[data-live]").forEach(function (el) {
          el.dispatchEvent(new CustomEvent("console:refresh"));
        });
      });
    });
    source.onerror = function () {
      // EventSource reconnects by itself after a stream ends (the server's retry: hint); it gives
      // up on an answer that is not a stream (a lost session's sign-in page). Either way, after
      // MAX_STREAM_ERRORS in a row the feed is polled instead, like every live region.
      errors++;
      if (source.readyState !== EventSource.CLOSED && errors < MAX_STREAM_ERRORS) {
        say("Reconnecting to the event stream…");
        return;
      }
      source.close();
      say("The event stream is unavailable: checking for new events every " + seconds(list) + " s instead.");
      list.setAttribute("data-live", list.getAttribute("data-events-fallback"));
      startLive(list);
    };
  }

  // (c) Charts. Colours and sizes are set here (the CSP forbids style attributes from the server).
  var COLOURS = { applied: "#0b57d0", stale: "#6e7781", failed: "#d1242f", p50: "#1a7f37", p99: "#bc4c00" };
  var CHART_HEIGHT = 220;

  var COUNT_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 1000000];

  // Times in UTC, as in the tables: "14:05" (for the day view, midnight reads "12-02" instead).
  function timeAxis(span) {
    var time = window.uPlot.fmtDate("{HH}:{mm}");
    var day = window.uPlot.fmtDate("{MM}-{DD}");
    return {
      space: 50,
      values: function (u, splits) {
        return splits.map(function (ts) {
          var d = window.uPlot.tzDate(new Date(ts * 1000), "Etc/UTC");
          return span >= 3600 && d.getHours() === 0 && d.getMinutes() === 0 ? day(d) : time(d);
        });
      },
    };
  }

  function chartOptions(kind, width, span) {
    var series = function (label, key, extra) {
      var s = { label: label, stroke: COLOURS[key], width: 2, spanGaps: false };
      for (var k in extra || {}) s[k] = extra[k];
      return s;
    };
    var base = {
      width: width,
      height: CHART_HEIGHT,
      // A point is the start of its minute (hour): the axis runs to the end of the last one.
      scales: {
        x: {
          time: true,
          range: function (u, min, max) {
            return [min, max + span];
          },
        },
      },
      // Labels only: the numbers are in the table under the charts.
      legend: { live: false },
      cursor: { show: true, drag: { x: false, y: false } },
    };
    if (kind === "lag") {
      base.scales.y = {
        distr: 3,
        log: 10,
        // Nothing applied in the range: still a readable empty axis.
        range: function (u, min, max) {
          return min === null || max === null ? [0.1, 100] : window.uPlot.rangeLog(min, max, 10, true);
        },
      };
      base.axes = [timeAxis(span), { label: "seconds (log scale)", size: 60 }];
      // A lone minute with events between empty ones is a dot, not an invisible line.
      // p50 is drawn bigger, so where both fall in one bucket both stay visible.
      base.series = [
        {},
        series("lag p50", "p50", { points: { show: true, size: 9 } }),
        series("lag p99", "p99", { points: { show: true, size: 5 }, dash: [6, 4] }),
      ];
      return base;
    }
    var steps = window.uPlot.paths.stepped({ align: 1 });
    var noPoints = { show: false };
    base.scales.y = {
      range: function (u, min, max) {
        return [0, Math.max(4, (max || 0) * 1.1)];
      },
    };
    base.axes = [timeAxis(span), { label: "events", size: 60, incrs: COUNT_STEPS }];
    base.series = [
      {},
      // Applied as a bar per minute (hour), drawn from the point's start across its width.
      series("applied", "applied", {
        paths: window.uPlot.paths.bars({ size: [1, Infinity], align: 1 }),
        fill: "rgba(11, 87, 208, 0.35)",
        points: noPoints,
      }),
      series("stale", "stale", { paths: steps, dash: [2, 3], points: noPoints }),
      series("failed", "failed", { paths: steps, points: noPoints }),
    ];
    return base;
  }

  function columns(kind, json, direction) {
    var d = json.directions[direction];
    if (!d) return null;
    return kind === "lag" ? [json.times, d.p50, d.p99] : [json.times, d.applied, d.stale, d.failed];
  }

  var charts = []; // { el, kind, direction, plot }

  function drawFrom(src, json) {
    charts.forEach(function (c) {
      if (c.el.getAttribute("data-chart-src") !== src) return;
      var data = columns(c.kind, json, c.direction);
      if (!data) return;
      if (!c.plot) {
        c.el.textContent = "";
        c.plot = new window.uPlot(chartOptions(c.kind, chartWidth(c.el), json.span), data, c.el);
      } else {
        c.plot.setData(data);
      }
      markFresh(c.el);
    });
  }

  function chartWidth(el) {
    return Math.max(240, Math.floor(el.clientWidth || el.parentNode.clientWidth || 600));
  }

  function startCharts() {
    var els = document.querySelectorAll("[data-chart]");
    if (!els.length || !window.uPlot) return;
    var sources = {};
    els.forEach(function (el) {
      charts.push({ el: el, kind: el.getAttribute("data-chart"), direction: el.getAttribute("data-chart-direction") });
      sources[el.getAttribute("data-chart-src")] = seconds(el);
    });
    Object.keys(sources).forEach(function (src) {
      every(sources[src], function () {
        return get(src, "application/json", sources[src])
          .then(
            function (res) {
              var problem = problemOf(res);
              if (problem) throw { problem: problem };
              return res.json();
            },
            function () {
              throw { problem: "the server could not be reached" };
            },
          )
          .then(function (json) {
            drawFrom(src, json);
          })
          .catch(function (error) {
            var why = error && error.problem ? error.problem : "the chart could not be drawn (" + error + ")";
            charts.forEach(function (c) {
              if (c.el.getAttribute("data-chart-src") === src) markOutOfDate(c.el, why);
            });
          });
      })();
    });
    var resizing;
    window.addEventListener("resize", function () {
      clearTimeout(resizing);
      resizing = setTimeout(function () {
        charts.forEach(function (c) {
          if (c.plot) c.plot.setSize({ width: chartWidth(c.el), height: CHART_HEIGHT });
        });
      }, 150);
    });
  }

  var started = false;
  function start() {
    if (started) return;
    started = true;
    document.querySelectorAll("[data-live]").forEach(startLive);
    document.querySelectorAll("[data-events]").forEach(function (list) {
      if (window.EventSource) return startEvents(list);
      list.setAttribute("data-live", list.getAttribute("data-events-fallback"));
      startLive(list);
    });
    updateAges(document);
    setInterval(function () {
      updateAges(document);
    }, 1000);
    startCharts();
  }

  // This file is deferred in <head>, so it runs before the page's later deferred scripts (uPlot):
  // start once they have all run, at DOMContentLoaded (load covers a page where that has passed).
  if (document.readyState === "complete") start();
  else {
    document.addEventListener("DOMContentLoaded", start);
    window.addEventListener("load", start);
  }
})();
