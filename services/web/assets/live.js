// Follows the page's status changes without reload (README "Web"): reads the web target's
// `/live` stream (the gateway's `statusChanged` over SSE, asked with the visitor's cookie, so no
// token is here) and redraws the changed measure's badges and progress as the server renders
// them. Without this script the page is what was rendered; a reload shows the same.
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root || typeof EventSource === "undefined") return;
  var url = root.getAttribute("data-live");
  var labels;
  try { labels = JSON.parse(root.getAttribute("data-labels")); } catch (e) { return; }
  var after = null;
  var retry = 1000;

  function badge(status) {
    var el = document.createElement("span");
    if (status === "OVERDUE") {
      el.className = "badge overdue";
      el.title = labels.overdueTitle;
    } else {
      el.className = "badge status-" + String(status || "").toLowerCase();
    }
    el.textContent = labels[status] || labels[""];
    return el;
  }

  function percent(p) {
    return Math.round(p) + "\u00a0%";
  }

  function progress(p) {
    var out = [];
    if (p == null) {
      var none = document.createElement("span");
      none.className = "muted";
      none.textContent = "—";
      out.push(none);
      return out;
    }
    p = Math.max(0, Math.min(100, p));
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = Math.round(p);
    bar.title = percent(p);
    bar.textContent = percent(p);
    var text = document.createElement("span");
    text.className = "progress-text";
    text.textContent = percent(p);
    out.push(bar, document.createTextNode(" "), text);
    return out;
  }

  function replace(holder, nodes) {
    while (holder.firstChild) holder.removeChild(holder.firstChild);
    nodes.forEach(function (n) { holder.appendChild(n); });
  }

  // A plan's totals (`[data-count=STATUS]`): the measure leaves the count of its old status
  // and joins that of its new one. Holders without `data-status` count nothing.
  function recount(before, after) {
    if (before == null || before === after) return;
    [[before, -1], [after, 1]].forEach(function (change) {
      var key = JSON.stringify(String(change[0] || ""));
      document.querySelectorAll("[data-count=" + key + "]").forEach(function (el) {
        var n = parseInt(el.textContent, 10);
        if (!isNaN(n)) el.textContent = String(Math.max(0, n + change[1]));
      });
    });
  }

  function apply(m) {
    if (!m || !m.id) return;
    // Attribute values of ids are UUIDs, but quote them as CSS strings anyway.
    var id = JSON.stringify(String(m.id));
    document.querySelectorAll("[data-status-of=" + id + "]").forEach(function (h) {
      recount(h.getAttribute("data-status"), m.status);
      if (h.hasAttribute("data-status")) h.setAttribute("data-status", m.status || "");
      replace(h, [badge(m.status)]);
    });
    var p = m.rolledProgress != null ? m.rolledProgress : m.progress;
    document.querySelectorAll("[data-progress-of=" + id + "]").forEach(function (h) {
      replace(h, progress(p));
    });
    // Measures of the cascade lists: the badge right after the link to the measure.
    var href = JSON.stringify("/measures/" + m.id);
    document.querySelectorAll("a[href=" + href + "] + .badge").forEach(function (old) {
      old.parentNode.replaceChild(badge(m.status), old);
    });
  }

  function received(message) {
    var payload;
    try { payload = JSON.parse(message.data); } catch (e) { return; }
    var event = payload && payload.data && payload.data.statusChanged;
    if (!event) return;
    if (event.cursor) after = event.cursor;
    apply(event.measure);
    retry = 1000;
  }

  function open() {
    var source = new EventSource(after ? url + "?after=" + encodeURIComponent(after) : url);
    // The router names its events `next` (and `complete` at the end).
    source.addEventListener("next", received);
    source.onmessage = received;
    source.onopen = function () { root.setAttribute("data-live-state", "open"); };
    source.onerror = function () {
      // Reconnect by hand, after the last cursor, so nothing in between is missed.
      source.close();
      root.setAttribute("data-live-state", "closed");
      setTimeout(open, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }
  open();
})();
