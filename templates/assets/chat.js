// Live chat of a workspace: progressive enhancement of /espaces/{id}/discussion. Without this
// script the form posts and the page reloads. With it, new messages arrive through a
// WebSocket and the form sends through it; on any trouble the form posts normally.
(function () {
  "use strict";
  var list = document.getElementById("chat-messages");
  var form = document.getElementById("chat-form");
  var live = document.getElementById("chat-live");
  var status = document.getElementById("chat-status");
  if (!list || !form || !window.WebSocket || list.dataset.history) {
    return;
  }
  var body = form.querySelector("textarea[name=body]");
  var replyTo = form.querySelector("input[name=in_reply_to]");
  var scheme = location.protocol === "https:" ? "wss:" : "ws:";
  var socket = null;
  var open = false;
  var lastSeq = 0;
  Array.prototype.forEach.call(list.children, function (li) {
    lastSeq = Math.max(lastSeq, parseInt(li.dataset.seq || "0", 10));
  });

  function text(el, value) {
    el.textContent = value;
    return el;
  }

  function render(m) {
    var li = document.createElement("li");
    li.className = "chat-message";
    li.id = "m-" + m.id;
    li.dataset.seq = String(m.seq);
    var meta = document.createElement("p");
    meta.className = "chat-meta";
    var a = text(document.createElement("a"), m.author);
    a.href = m.author_url;
    a.className = "chat-author";
    a.title = m.author_handle;
    meta.appendChild(a);
    meta.appendChild(document.createTextNode(" "));
    var time = document.createElement("time");
    time.dateTime = m.created_at;
    time.textContent = new Date(m.created_at).toLocaleString();
    meta.appendChild(time);
    li.appendChild(meta);
    var content = document.createElement("div");
    content.className = "chat-body prose";
    // Sanitised by the server (the same HTML the page shows without script).
    content.innerHTML = m.html;
    li.appendChild(content);
    return li;
  }

  function onFrame(frame) {
    var existing = frame.id ? document.getElementById("m-" + frame.id) : null;
    if (frame.type === "message") {
      if (existing) {
        return;
      }
      var empty = document.getElementById("chat-empty");
      if (empty) {
        empty.remove();
      }
      list.appendChild(render(frame));
      lastSeq = Math.max(lastSeq, frame.seq);
      live.textContent = frame.author + " : " + (frame.html ? new DOMParser().parseFromString(frame.html, "text/html").body.textContent : "");
      if (document.visibilityState === "visible") {
        send({ type: "read", up_to: lastSeq });
      }
    } else if (frame.type === "edited" && existing) {
      var content = existing.querySelector(".chat-body");
      if (content) {
        content.innerHTML = frame.html;
      }
    } else if (frame.type === "deleted" && existing) {
      var gone = existing.querySelector(".chat-body");
      if (gone) {
        gone.innerHTML = "";
        gone.className = "chat-deleted";
        gone.textContent = list.dataset.deletedLabel || "";
      }
    } else if (frame.type === "posted") {
      body.value = "";
      status.textContent = "";
      if (replyTo) {
        replyTo.value = "";
      }
    } else if (frame.type === "error") {
      status.textContent = frame.message;
    } else if (frame.type === "resync") {
      location.reload();
    }
  }

  function send(frame) {
    if (socket && open) {
      socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  function connect() {
    socket = new WebSocket(scheme + "//" + location.host + list.dataset.socket);
    socket.onopen = function () {
      open = true;
      list.dataset.live = "true";
    };
    socket.onmessage = function (event) {
      try {
        onFrame(JSON.parse(event.data));
      } catch (e) {
        // An unreadable frame is skipped.
      }
    };
    socket.onclose = function () {
      open = false;
      delete list.dataset.live;
      setTimeout(connect, 5000);
    };
  }

  form.addEventListener("submit", function (event) {
    var value = body.value;
    if (!value.trim() || value.length > 10000) {
      return; // the server explains, with the page reloaded
    }
    var frame = { type: "post", body: value };
    if (replyTo && replyTo.value) {
      frame.in_reply_to = replyTo.value;
    }
    if (send(frame)) {
      event.preventDefault();
    }
  });

  connect();
})();
