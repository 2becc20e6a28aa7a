/* Shujiao: upload progress, live version-check status and copy buttons. Pages work without it. */
(function () {
  "use strict";

  // Upload with a progress bar: the same multipart form, posted by XHR, answered in JSON.
  document.querySelectorAll("form[data-upload]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.FormData || !window.XMLHttpRequest) return;
      event.preventDefault();
      var bar = form.querySelector(".upload-progress");
      var fill = bar.querySelector(".progress-bar");
      var status = form.querySelector(".upload-status");
      var button = form.querySelector("button[type=submit]");
      form.querySelectorAll(".js-upload-error").forEach(function (el) { el.remove(); });
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action || window.location.href);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (e) {
        if (!e.lengthComputable) return;
        var pct = Math.round(100 * e.loaded / e.total);
        fill.style.width = pct + "%";
        status.textContent = "Uploading… " + pct + "%";
      };
      xhr.onload = function () {
        var data = null;
        try { data = JSON.parse(xhr.responseText); } catch (err) { data = null; }
        if (data && data.ok) { window.location.href = data.redirect; return; }
        button.disabled = false;
        bar.classList.add("hidden");
        var messages = [];
        if (data && data.errors) {
          Object.keys(data.errors).forEach(function (k) {
            data.errors[k].forEach(function (e) {
              if (messages.indexOf(e.message) < 0) messages.push(e.message);  // each message once
            });
          });
        } else {
          messages.push(xhr.status === 413 ? "The file is larger than the upload limit." : "The upload failed (HTTP " + xhr.status + ").");
        }
        status.textContent = "";
        var box = document.createElement("div");
        box.className = "form-errors js-upload-error";
        box.setAttribute("role", "alert");
        messages.forEach(function (m) { var p = document.createElement("p"); p.textContent = m; box.appendChild(p); });
        form.insertBefore(box, form.firstChild.nextSibling);
      };
      xhr.onerror = function () {
        button.disabled = false;
        status.textContent = "The connection failed; please try again.";
      };
      button.disabled = true;
      bar.classList.remove("hidden");
      fill.style.width = "0%";
      status.textContent = "Uploading…";
      xhr.send(new FormData(form));
    });
  });

  // Tables wider than their card scroll inside it: say so above the table (and mark the wrap,
  // whose edges then shade while columns lie beyond them). Checked again when the width changes.
  function markScrolling() {
    document.querySelectorAll(".table-wrap").forEach(function (wrap) {
      var wide = wrap.scrollWidth > wrap.clientWidth + 1;
      wrap.classList.toggle("scrolls", wide);
      var hint = wrap.previousElementSibling;
      var has = hint && hint.classList.contains("scroll-hint");
      if (wide && !has) {
        hint = document.createElement("p");
        hint.className = "scroll-hint";
        hint.setAttribute("aria-hidden", "true");
        hint.textContent = "Scroll sideways for more columns 左右滑动 →";
        wrap.parentNode.insertBefore(hint, wrap);
      } else if (!wide && has) {
        hint.remove();
      }
    });
  }
  markScrolling();
  window.addEventListener("resize", markScrolling);

  // Versions being checked: poll their status.json every 1.5 s until they finish.
  var POLL_MS = 1500;
  function poll(row) {
    var url = row.getAttribute("data-status-url");
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (d) {
        var badge = row.querySelector(".js-status .badge");
        badge.className = "badge badge-status badge-" + d.status;
        badge.textContent = d.status_label;
        row.querySelector(".progress-bar").style.width = d.bar_percent + "%";
        row.querySelector(".js-progress").textContent = d.progress_text;
        row.querySelector(".js-error").textContent = d.check_error || "";
        if (d.status === "uploaded" || d.status === "checking") { setTimeout(function () { poll(row); }, POLL_MS); return; }
        row.querySelector(".progress").classList.add("hidden");
        // a failed version shows its failure, not a score beside grade E
        row.querySelector(".js-progress").textContent = d.passed === false ? "quality gates failed"
          : d.score !== null ? "score " + d.score + "/100" : "";
        if (d.grade) {
          var g = row.querySelector(".js-grade .grade");
          g.className = "grade grade-" + d.grade;
          g.textContent = d.grade;
        }
      })
      .catch(function () { setTimeout(function () { poll(row); }, POLL_MS * 4); });
  }
  document.querySelectorAll("tr[data-status-url]").forEach(function (row) { setTimeout(function () { poll(row); }, POLL_MS); });

  // Copy buttons: every <pre data-copy> (commands, a secret shown once) gets one. Without
  // JavaScript there is no button and the text stays selectable as it is.
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var done = false;
      try { done = document.execCommand("copy"); } catch (err) { done = false; }
      area.remove();
      if (done) { resolve(); } else { reject(new Error("copy refused")); }
    });
  }
  document.querySelectorAll("pre[data-copy]").forEach(function (pre) {
    var bar = document.createElement("div");
    bar.className = "copy-bar";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-small btn-ghost copy-btn";
    button.textContent = "Copy 复制";
    if (pre.id) button.setAttribute("aria-controls", pre.id);
    button.addEventListener("click", function () {
      copyText(pre.textContent.replace(/\n+$/, "\n")).then(function () {
        button.textContent = "Copied 已复制";
        button.setAttribute("data-copied", "true");
      }, function () {
        button.textContent = "Select and copy by hand 请手动复制";
        button.setAttribute("data-copied", "false");
      });
      setTimeout(function () {
        button.textContent = "Copy 复制";
        button.removeAttribute("data-copied");
      }, 4000);
    });
    bar.appendChild(button);
    pre.parentNode.insertBefore(bar, pre);
  });
})();
