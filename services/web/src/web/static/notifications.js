// The bell on every page: the unread count, then new notifications as they arrive (Server-Sent Events from
// the web's own /notifications/live, so the session cookie is the sign-in). On the notifications page, new
// ones are added at the top of the list. Text only: nothing received is ever parsed as HTML.
(function () {
  "use strict";
  var bell = document.querySelector("[data-unread]");
  if (!bell || !window.EventSource) { return; }
  var count = 0;
  function show(n) {
    count = n;
    bell.textContent = String(n);
    bell.hidden = n === 0;
    bell.setAttribute("aria-label", n + " unread");
  }
  fetch("/notifications/unread.json", { credentials: "same-origin", headers: { "Accept": "application/json" } })
    .then(function (r) { return r.ok ? r.json() : { unread: 0 }; })
    .then(function (body) { show(count + (body.unread || 0)); })
    .catch(function () {});

  var list = document.getElementById("notification-list");
  var url = "/notifications/live";
  if (list && list.dataset.after) { url += "?after=" + encodeURIComponent(list.dataset.after); }
  var source = new EventSource(url);
  source.addEventListener("notification", function (event) {
    var n = JSON.parse(event.data);
    show(count + 1);
    if (!list) { return; }
    var empty = document.getElementById("no-notifications");
    if (empty) { empty.remove(); }
    var item = document.createElement("li");
    item.className = "notification unread arrived" + (n.urgent ? " urgent" : "");
    var form = document.createElement("form");
    form.method = "post";
    form.action = "/notifications/" + encodeURIComponent(n.id) + "/open";
    form.className = "inline";
    var csrf = document.createElement("input");
    csrf.type = "hidden";
    csrf.name = "csrf_token";
    csrf.value = list.dataset.csrf || "";
    var button = document.createElement("button");
    button.type = "submit";
    button.className = "button-link";
    var title = document.createElement("strong");
    title.textContent = n.title;
    button.appendChild(title);
    if (n.child_initials) { button.appendChild(document.createTextNode(" – " + n.child_initials)); }
    form.appendChild(csrf);
    form.appendChild(button);
    var tag = document.createElement("span");
    tag.className = "tag";
    tag.textContent = "New";
    item.appendChild(form);
    item.appendChild(document.createTextNode(" "));
    item.appendChild(tag);
    list.insertBefore(item, list.firstChild);
  });
})();
