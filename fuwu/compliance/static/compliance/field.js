/* The field checklist on a phone with a poor connection.
 *
 * Answers: each clause's form is saved in the background as soon as a result is chosen (or the note or number
 * changes), stamped with the phone's time. A save that cannot reach the server is kept in localStorage and sent
 * again when the phone is back online (and every 30 seconds); the server keeps, for each clause, the answer
 * with the latest phone time, so replaying an old answer never overwrites a newer one. Without this script
 * each form posts with its own button.
 *
 * Photos: before a photo form is sent, the phone's position is asked for and put in the form's hidden fields
 * (the file's own EXIF is discarded by the server). If no position comes within 10 seconds the photo is sent
 * without one, and the page says so.
 *
 * Wording comes from the page (data-* attributes, translated there).
 */
(function () {
  "use strict";
  var KEY = "fuwu-compliance-queue:" + window.location.pathname;
  var progress = document.querySelector("[data-progress-text]");
  var queueStatus = document.querySelector("[data-queue]");

  function load() {
    try { return JSON.parse(window.localStorage.getItem(KEY) || "{}"); } catch (e) { return {}; }
  }
  function store(queue) {
    try { window.localStorage.setItem(KEY, JSON.stringify(queue)); } catch (e) { /* private mode: no queue */ }
  }
  function say(node, text, isError) {
    if (!node) { return; }
    node.textContent = text;
    node.classList.toggle("is-error", Boolean(isError));
  }
  function showQueue() {
    var n = Object.keys(load()).length;
    if (queueStatus) {
      say(queueStatus, n ? queueStatus.getAttribute("data-offline").replace("{n}", String(n)) : "", false);
    }
  }

  function fields(form) {
    var data = {};
    new FormData(form).forEach(function (value, name) { data[name] = value; });
    return data;
  }

  // One request at a time: on a weak connection parallel requests only compete, and the answers of one
  // clause must arrive in the order they were given.
  var line = Promise.resolve();
  function send(action, data) {
    var body = new FormData();
    Object.keys(data).forEach(function (name) { body.append(name, data[name]); });
    var request = line.then(function () {
      return fetch(action, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" }
      });
    });
    line = request.catch(function () { return null; });
    return request;
  }

  function save(form) {
    var status = form.querySelector("[data-status]");
    var data = fields(form);
    if (!data.result) { return; }
    data.client_time = new Date().toISOString();
    form.querySelector("[name=client_time]").value = data.client_time;
    say(status, queueStatus ? queueStatus.getAttribute("data-saving") : "…", false);
    send(form.action, data).then(function (response) {
      if (response.status >= 500) { throw new Error("server"); }
      return response.json().then(function (reply) {
        if (reply.ok) {
          say(status, reply.message, false);
          if (progress && reply.total) { progress.textContent = progress.textContent.replace(/\d+\s*\/\s*\d+/, reply.answered + " / " + reply.total); }
        } else {
          say(status, (queueStatus ? queueStatus.getAttribute("data-failed") : "") + reply.message, true);
        }
      });
    }).catch(function () {
      var queue = load();
      queue[form.action] = data;  // the latest answer per clause is the one to replay
      store(queue);
      say(status, queueStatus ? queueStatus.getAttribute("data-offline").replace("{n}", String(Object.keys(queue).length)) : "", true);
      showQueue();
    });
  }

  // Answers being replayed now. The browser's "online" event, the 30-second timer and a page load can all
  // call flush at once: an answer already on its way is not sent a second time.
  var replaying = {};
  function flush() {
    var queue = load();
    var actions = Object.keys(queue);
    if (!actions.length || !navigator.onLine) { return; }
    actions.forEach(function (action) {
      if (replaying[action]) { return; }
      var data = queue[action];
      replaying[action] = true;
      send(action, data).then(function (response) {
        if (response.status < 500) {  // saved, or refused for good (the page shows why on reload)
          var now = load();
          // A newer answer given to this clause while this one was on its way stays queued.
          if (now[action] && now[action].client_time === data.client_time) { delete now[action]; }
          store(now);
          showQueue();
          if (!Object.keys(now).length && queueStatus) { say(queueStatus, queueStatus.getAttribute("data-flushed"), false); }
        }
      }).catch(function () { /* still offline: try again later */ }).then(function () {
        delete replaying[action];
      });
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("form[data-answer]"), function (form) {
    form.addEventListener("change", function () { save(form); });
    form.addEventListener("submit", function (event) { event.preventDefault(); save(form); });
  });

  Array.prototype.forEach.call(document.querySelectorAll("form[data-evidence]"), function (form) {
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-located") === "yes" || !("geolocation" in navigator)) { return; }
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; button.textContent = form.getAttribute("data-locating"); }
      var sent = false;
      function go() {
        if (sent) { return; }
        sent = true;
        form.setAttribute("data-located", "yes");
        if (button) { button.textContent = form.getAttribute("data-sending"); }
        form.submit();
      }
      navigator.geolocation.getCurrentPosition(function (position) {
        form.querySelector("[name=latitude]").value = position.coords.latitude.toFixed(6);
        form.querySelector("[name=longitude]").value = position.coords.longitude.toFixed(6);
        form.querySelector("[name=accuracy]").value = String(Math.round(position.coords.accuracy));
        go();
      }, go, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
      window.setTimeout(go, 12000);
    });
  });

  window.addEventListener("online", flush);
  window.setInterval(flush, 30000);
  showQueue();
  flush();
}());
