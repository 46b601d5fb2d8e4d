// Live pages (README "Live pages"): a timeline listens to /live/events and, on each change,
// asks its changes URL (with the filter form's values and its cursor) which threads changed.
// New and moved threads go where their time puts them, changed ones are replaced in place, an
// expanded thread keeps its messages (only its summary line is updated), and whatever the
// reader looks at stays where it is on screen.
(function () {
  "use strict";
  var timeline = null;
  var busy = false;
  var again = false;
  var notice = null;

  // "N new threads above": fixed over the page, so showing it moves nothing.
  function freshAbove() {
    return rows().filter(function (r) {
      return r.classList.contains("fresh") && r.getBoundingClientRect().bottom <= 0;
    });
  }

  function announce() {
    var above = freshAbove();
    if (!above.length) {
      if (notice) { notice.hidden = true; }
      return;
    }
    if (!notice) {
      notice = document.createElement("button");
      notice.type = "button";
      notice.className = "live-new primary small";
      notice.addEventListener("click", function () {
        notice.hidden = true;
        var first = freshAbove()[0];
        if (first) { first.scrollIntoView({ block: "start" }); }
      });
      window.addEventListener("scroll", function () {
        if (notice && !notice.hidden && !freshAbove().length) { notice.hidden = true; }
      }, { passive: true });
      document.body.appendChild(notice);
    }
    notice.textContent = above.length === 1 ? "1 new thread above ↑" : above.length + " new threads above ↑";
    notice.hidden = false;
  }

  function list() { return document.getElementById("threads"); }

  function rows() { return Array.prototype.slice.call(list().querySelectorAll("details.thread")); }

  function byThread(id) {
    return rows().filter(function (r) { return r.dataset.thread === id; })[0] || null;
  }

  // The first rows still on screen and where they are, to put the first of them that stays
  // on the page back there after the changes.
  function anchor() {
    var all = rows();
    var marks = [];
    for (var i = 0; i < all.length && marks.length < 5; i++) {
      var box = all[i].getBoundingClientRect();
      if (box.bottom > 0) { marks.push({ el: all[i], top: box.top }); }
    }
    return marks;
  }

  // `old` was replaced by `row`: a mark on it follows.
  function follow(marks, old, row) {
    marks.forEach(function (m) { if (m.el === old) { m.el = row; } });
  }

  function at(row) { return Number(row.dataset.at || 0); }

  function summary(row) { return row.querySelector("summary").innerHTML; }

  // Insert `row` before the first shown row older than it; past the last one only when the
  // list is complete (otherwise "Load more" brings it in its turn).
  function place(row) {
    var l = list();
    var all = rows();
    for (var i = 0; i < all.length; i++) {
      if (at(all[i]) < at(row)) { l.insertBefore(row, all[i]); return true; }
    }
    var more = l.querySelector(".load-more");
    if (more) { return false; }
    l.appendChild(row);
    return true;
  }

  function apply(html, marks) {
    var box = document.createElement("template");
    box.innerHTML = html;
    var root = box.content.querySelector(".live-changes");
    if (!root) { return; }
    var pinned = marks;
    var gone = root.querySelectorAll("[data-gone]");
    for (var g = 0; g < gone.length; g++) {
      var old = byThread(gone[g].dataset.gone);
      if (!old) { continue; }
      if (old.open) { old.classList.add("gone"); continue; }
      old.remove();
    }
    var fresh = Array.prototype.slice.call(root.querySelectorAll("details.thread"));
    // Oldest first, so each newer one lands above the last.
    fresh.reverse().forEach(function (row) {
      var old = byThread(row.dataset.thread);
      // Sent again unchanged (the cursor overlaps): leave the row alone.
      if (old && old.id === row.id && summary(old) === summary(row)) { return; }
      if (old && old.open) {
        old.querySelector("summary").innerHTML = row.querySelector("summary").innerHTML;
        old.classList.toggle("unread", row.classList.contains("unread"));
        old.classList.remove("gone");
        return;
      }
      if (old && at(row) <= at(old)) {
        // The same thread again (the cursor overlaps): still new to the reader if it was.
        row.classList.toggle("fresh", old.classList.contains("fresh"));
        old.replaceWith(row);
        follow(pinned, old, row);
      } else {
        if (old) { old.remove(); }
        if (!place(row)) { return; }
        row.classList.add("fresh");
      }
      if (window.htmx) { window.htmx.process(row); }
    });
    if (fresh.length) {
      var empty = list().querySelector("p.empty");
      if (empty) { empty.remove(); }
    }
    var still = pinned.filter(function (m) { return m.el.isConnected; })[0];
    if (still) {
      var moved = still.el.getBoundingClientRect().top - still.top;
      if (moved) { window.scrollBy(0, moved); }
    }
    timeline.dataset.cursor = root.dataset.cursor;
    announce();
  }

  function refresh() {
    // The timeline may have been swapped in again (a link panel refreshed): use the current one.
    if (!timeline || !timeline.isConnected) {
      timeline = document.querySelector("#timeline[data-live]");
      if (!timeline) { return; }
    }
    if (busy) { again = true; return; }
    busy = true;
    var form = timeline.querySelector("form.filters");
    var params = form ? new URLSearchParams(new FormData(form)) : new URLSearchParams();
    params.set("live", timeline.dataset.cursor || "0");
    fetch(timeline.dataset.live + "?" + params.toString(), {
      credentials: "same-origin",
      headers: { "Accept": "text/html" },
      redirect: "error"
    }).then(function (res) {
      return res.ok ? res.text() : null;
    }).then(function (html) {
      if (html !== null) { apply(html, anchor()); }
    }).catch(function () {}).then(function () {
      busy = false;
      if (again) { again = false; refresh(); }
    });
  }

  function start() {
    timeline = document.querySelector("#timeline[data-live]");
    if (!timeline || !window.EventSource) { return; }
    var events = new EventSource("/live/events");
    // On (re)connecting, catch up with what changed while not listening.
    events.addEventListener("open", refresh);
    events.addEventListener("change", refresh);
    window.addEventListener("pagehide", function () { events.close(); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
