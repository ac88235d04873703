// Aesthetix: the little script the pages use. Every page works without it; it adds the
// drag-and-drop upload, the field search and the unmatched-column check on the mapping step,
// confirmations, and live progress on Bulk Actions. No framework, no external asset.
"use strict";

(function () {
  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  // ---- Upload: drag and drop or choose; the size is checked here and again on the server.
  function setupUpload() {
    var zone = $("#dropzone");
    if (!zone) return;
    var input = $("#file");
    var error = $("#upload-error");
    var chosen = $("#chosen");
    var bar = $("#progress");
    var max = parseInt(zone.getAttribute("data-max-bytes"), 10);
    var busy = false;

    function fail(message) {
      busy = false;
      bar.hidden = true;
      error.textContent = message;
      error.hidden = false;
    }

    function send(file) {
      if (busy || !file) return;
      error.hidden = true;
      if (file.size > max) {
        fail("“" + file.name + "” is " + (file.size / 1e6).toFixed(1) + " MB; the limit is " +
          (max / 1e6) + " MB. Split it into smaller files, each with the header row, and import them one by one.");
        return;
      }
      if (file.size === 0) {
        fail("“" + file.name + "” is empty. Choose the file that holds your records.");
        return;
      }
      busy = true;
      chosen.textContent = "Uploading " + file.name + "…";
      bar.hidden = false;
      bar.value = 0;
      var xhr = new XMLHttpRequest();
      // The object chosen in the first step (SPEC §8), as the select says now.
      var object = $("#object");
      var objectKey = object ? object.value : (zone.getAttribute("data-object") || "");
      xhr.open("POST", zone.getAttribute("data-upload-url") + "?name=" + encodeURIComponent(file.name) +
        (objectKey ? "&object=" + encodeURIComponent(objectKey) : ""));
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      xhr.setRequestHeader("X-CSRF-Token", zone.getAttribute("data-csrf") || "");
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) bar.value = Math.round(e.loaded * 100 / e.total);
      };
      xhr.onload = function () {
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
        if (xhr.status === 201 && body && body.next) {
          chosen.textContent = "Uploaded " + file.name + ". Reading the columns…";
          window.location.assign(body.next);
        } else if (body && body.error) {
          chosen.textContent = "";
          fail(body.error.message);
        } else if (xhr.status === 403) {
          fail("Only an admin of this location can import.");
        } else {
          fail("The upload did not work (error " + xhr.status + "). Try again.");
        }
      };
      xhr.onerror = function () { fail("The upload was interrupted. Check your connection and try again."); };
      xhr.send(file);
    }

    input.addEventListener("change", function () { send(input.files[0]); });
    ["dragenter", "dragover"].forEach(function (t) {
      zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (t) {
      zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (e) {
      if (e.dataTransfer && e.dataTransfer.files.length) send(e.dataTransfer.files[0]);
    });
  }

  // ---- Mapping: a search box per column filters its list; unmatched columns block Next
  // until "Don't import data in unmatched columns" is checked (the server checks it too).
  function setupMapping() {
    var form = $("#map-form");
    if (!form) return;
    var skip = $("#skip_unmapped");
    var next = $("#map-next");
    var note = $("#unmatched-note");
    var rows = $all("tr[data-map-row]", form);

    rows.forEach(function (row) {
      var search = $("[data-field-search]", row);
      var select = $("[data-field-select]", row);
      search.addEventListener("input", function () {
        var q = search.value.trim().toLowerCase();
        $all("option", select).forEach(function (o) {
          if (!o.value) return;
          var show = !q || o.textContent.toLowerCase().indexOf(q) >= 0 || o.value.indexOf(q) >= 0;
          o.hidden = !show;
          o.disabled = !show && !o.selected;
        });
        // The search only narrows the list: the admin picks the field (issue 18: a typed
        // word once chose its first hit, even a field another column uses).
        var hits = $all("option", select).filter(function (o) { return o.value && o.value !== "-" && !o.hidden; }).length;
        var count = $("[data-search-count]", row);
        if (count) {
          count.textContent = q ? (hits === 0 ? "No field matches." : hits + (hits === 1 ? " field matches" : " fields match") + ": choose it in the list.") : "";
        }
      });
      select.addEventListener("change", check);
    });

    function check() {
      var unmatched = [];
      rows.forEach(function (row) {
        var select = $("[data-field-select]", row);
        // "-" is "Don't import this column": a choice, not a column left unmatched.
        row.classList.toggle("unmatched", !select.value);
        if (!select.value) unmatched.push($("[data-header]", row).textContent);
        var hint = $("[data-auto-hint]", row);
        if (hint) hint.hidden = select.value !== row.getAttribute("data-auto");
      });
      var blocked = unmatched.length > 0 && !skip.checked;
      next.disabled = blocked;
      if (unmatched.length) {
        note.textContent = (unmatched.length === 1 ? "This column is" : "These columns are") +
          " not matched to a field: " + unmatched.join(", ") +
          (skip.checked ? (unmatched.length === 1 ? ". It will be left out." : ". They will be left out.") : ". Choose a field for each, or check “Don't import data in unmatched columns”.");
        note.hidden = false;
      } else {
        note.hidden = true;
      }
    }
    skip.addEventListener("change", check);
    check();
  }

  // ---- Confirmations for actions that change data.
  function setupConfirm() {
    $all("form[data-confirm]").forEach(function (f) {
      f.addEventListener("submit", function (e) {
        if (!window.confirm(f.getAttribute("data-confirm"))) e.preventDefault();
      });
    });
  }

  // ---- Forms that take a while (the check reads the whole file): say so, and send once.
  function setupBusy() {
    $all("form[data-busy]").forEach(function (f) {
      f.addEventListener("submit", function (e) {
        if (e.defaultPrevented) return;
        var button = $("button[type=submit]", f);
        if (button) {
          button.textContent = f.getAttribute("data-busy");
          window.setTimeout(function () { button.disabled = true; }, 0);
        }
      });
    });
  }

  // ---- Live progress on Bulk Actions (polling every 2 seconds while a job is live).
  function setupProgress() {
    var el = $("[data-poll]");
    if (!el) return;
    var url = el.getAttribute("data-poll");
    var reload = el.hasAttribute("data-reload-when-done");
    function set(root, field, value) {
      var f = $("[data-field=\"" + field + "\"]", root);
      if (f) f.textContent = value;
    }
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (jobs) {
          if (!jobs) return;
          var live = false;
          jobs.forEach(function (j) {
            var root = document.querySelector("[data-job=\"" + j.id + "\"]");
            if (!root) return;
            var status = $("[data-field=\"status\"]", root);
            var was = status ? status.textContent : "";
            if (status) { status.textContent = j.status; status.className = "badge " + j.status; }
            set(root, "progress", j.processed + " / " + (j.total === null ? "?" : j.total));
            var bar = $("[data-field=\"bar\"]", root);
            if (bar) bar.style.width = j.percent + "%";
            ["created", "updated", "skipped", "errors", "warnings"].forEach(function (k) { set(root, k, j[k]); });
            set(root, "exported", j.processed);
            // A finished export's row offers its file (rendered hidden while it ran).
            var dl = $("[data-field=\"download\"]", root);
            if (dl && j.status === "completed") dl.hidden = false;
            if (j.operation === "export" && j.status === "completed" && was && was !== "completed") refreshNotices();
            if (j.status === "queued" || j.status === "running" || j.status === "reverting") live = true;
            else if (reload && was !== j.status) window.location.reload();
          });
          // The list is updated in place (a reload could swallow a click); a job's own page
          // reloads when its job ends, to show the rows it wrote.
          if (live) window.setTimeout(tick, 2000);
        })
        .catch(function () { window.setTimeout(tick, 5000); });
    }
    window.setTimeout(tick, 1000);
  }

  // ---- The header's notices ("your export is ready"), shown as soon as an export the page
  // follows completes, without a reload.
  function refreshNotices() {
    fetch("/notifications", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (list) {
        if (!list) return;
        var box = $(".notices");
        if (!box) {
          box = document.createElement("div");
          box.className = "notices";
          box.setAttribute("role", "status");
          box.setAttribute("aria-label", "Notifications");
          var header = $("header");
          header.parentNode.insertBefore(box, header.nextSibling);
        }
        var token = $("input[name=csrf_token]");
        box.textContent = "";
        list.forEach(function (n) {
          var bar = document.createElement("div");
          bar.className = "notice-bar";
          bar.setAttribute("data-notification", n.id);
          var span = document.createElement("span");
          span.textContent = n.text;
          bar.appendChild(span);
          if (n.job !== null) {
            var dl = document.createElement("a");
            dl.className = "button small";
            dl.href = "/bulk-actions/" + n.job + "/download";
            dl.textContent = "Download";
            bar.appendChild(dl);
            var more = document.createElement("a");
            more.href = "/bulk-actions/" + n.job;
            more.textContent = "Details";
            bar.appendChild(more);
          }
          var form = document.createElement("form");
          form.className = "inline";
          form.method = "post";
          form.action = "/notifications/" + n.id + "/read";
          var hidden = document.createElement("input");
          hidden.type = "hidden";
          hidden.name = "csrf_token";
          hidden.value = token ? token.value : "";
          form.appendChild(hidden);
          var button = document.createElement("button");
          button.className = "link";
          button.type = "submit";
          button.setAttribute("aria-label", "Dismiss this notification");
          button.textContent = "Dismiss";
          form.appendChild(button);
          bar.appendChild(form);
          box.appendChild(bar);
        });
        box.hidden = list.length === 0;
      })
      .catch(function () {});
  }

  // ---- "Check all" / "Uncheck all" buttons and a "select all" box over a list's checkboxes.
  function setupCheckAll() {
    $all("[data-check-all]").forEach(function (b) {
      var name = b.getAttribute("data-check-all");
      var on = b.getAttribute("data-value") !== "false";
      var event = b.type === "checkbox" ? "change" : "click";
      b.addEventListener(event, function () {
        var value = b.type === "checkbox" ? b.checked : on;
        $all("input[type=checkbox][name=\"" + name + "\"]").forEach(function (c) { c.checked = value; });
      });
    });
  }

  // ---- The export form: typing in a choice's fields picks that choice.
  function setupSelects() {
    $all("[data-selects]").forEach(function (block) {
      var radio = $("input[name=selection][value=\"" + block.getAttribute("data-selects") + "\"]");
      if (!radio) return;
      ["focusin", "change"].forEach(function (t) {
        block.addEventListener(t, function () { radio.checked = true; });
      });
    });
  }

  // ---- A Smart List's live count: how many contacts the filters hold, as they are set.
  function setupLiveCount() {
    var form = $("form[data-live-count]");
    if (!form) return;
    var out = $("#live-count");
    var timer = null;
    function ask() {
      var params = new URLSearchParams();
      $all("input, select", form).forEach(function (el) {
        if (el.name && el.name !== "csrf_token" && el.name !== "name" && el.value) params.append(el.name, el.value);
      });
      if (!params.toString()) { out.textContent = "Set filters to see how many contacts the list holds."; return; }
      fetch(form.getAttribute("data-live-count") + "?" + params.toString(), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (b) {
          if (!b) return;
          out.textContent = b.error ? b.error : (b.count === 1 ? "1 contact matches now." : b.count + " contacts match now.");
        })
        .catch(function () {});
    }
    ["input", "change"].forEach(function (t) {
      form.addEventListener(t, function () { window.clearTimeout(timer); timer = window.setTimeout(ask, 300); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupLiveCount();
    setupCheckAll();
    setupSelects();
    setupUpload();
    setupMapping();
    setupConfirm();
    setupBusy();
    setupProgress();
  });
})();
