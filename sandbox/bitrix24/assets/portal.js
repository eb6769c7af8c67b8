/* The sandbox portal page: launches the app into the iframe and answers the BX24 shim (bx24.js).

   Protocol: the shim posts {protocol: "bx24-sandbox", sid, id, cmd, args} to this page; the page answers
   {protocol, sid, id, result} to that frame only. A message is heard only when it comes from the app's
   origin (of app_url), from our iframe's window, and carries this launch's APP_SID: any other frame or
   page cannot get the tokens or install the app. */
(function (window, document) {
  "use strict";
  var PROTOCOL = "bx24-sandbox";
  var config = JSON.parse(document.getElementById("portal-config").textContent);
  var frame = document.getElementById("app-frame");
  var auth = config.auth;
  var authAt = Date.now();

  function currentAuth() {
    if (!auth) return null;
    var left = auth.expires_in - Math.floor((Date.now() - authAt) / 1000);
    return {access_token: auth.access_token, refresh_token: auth.refresh_token, expires_in: Math.max(left, 0),
            domain: auth.domain, member_id: auth.member_id};
  }

  function postJson(path, body) {
    return window.fetch(path, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)})
      .then(function (response) {
        return response.json().then(function (data) {
          if (!response.ok) throw new Error(data.error || "HTTP " + response.status);
          return data;
        });
      });
  }

  function showStatus(text) {
    var element = document.getElementById("portal-status");
    if (element) element.textContent = text;
  }

  // Only plain sizes reach the frame's style: a number of pixels, or "<n>px" / "<n>%".
  function cssSize(value) {
    if (typeof value === "number" && isFinite(value) && value >= 0) return Math.round(value) + "px";
    if (typeof value === "string" && /^\d+(\.\d+)?(px|%)?$/.test(value)) return /\d$/.test(value) ? value + "px" : value;
    return null;
  }

  var handlers = {
    init: function (args, reply) {
      reply({auth: currentAuth(), client_endpoint: config.client_endpoint, lang: config.lang,
             is_admin: config.user.is_admin, user_id: config.user.id,
             placement: config.placement, placement_options: config.placement_options});
    },
    refreshAuth: function (args, reply) {
      postJson("/_sandbox/refresh_auth", {user_id: config.user.id}).then(function (fresh) {
        auth = fresh;
        authAt = Date.now();
        reply({auth: currentAuth()});
      }, function (error) {
        showStatus("BX24.refreshAuth failed: " + error.message);
        reply({auth: null});
      });
    },
    resize: function (args, reply) {
      var width = cssSize(args.width), height = cssSize(args.height);
      if (width) frame.style.width = width;
      if (height) frame.style.height = height;
      reply({width: width, height: height});
    },
    setTitle: function (args, reply) {
      document.getElementById("app-title").textContent = String(args.title || "");
      reply({});
    },
    openPath: function (args, reply) {
      var path = String(args.path || "");
      // Only a path of the same portal (bx24-open-path.md): never another domain or an absolute URL.
      if (path.charAt(0) !== "/" || path.charAt(1) === "/") {
        reply({result: "error", errorCode: "PATH_NOT_ALLOWED"});
        return;
      }
      var slider = document.getElementById("slider");
      var separator = path.indexOf("?") < 0 ? "?" : "&";
      document.getElementById("slider-path").textContent = path + separator + "from=rest_placement&from_app=" +
        encodeURIComponent(config.app_code || "app");
      slider.hidden = false;
      document.getElementById("slider-close").onclick = function () {
        slider.hidden = true;
        reply({result: "close"});
      };
    },
    installFinish: function () {
      // Heard from the installer only: an app calling it on every page must not reload the portal forever.
      if (!config.installing || !config.user.is_admin) return;
      showStatus("Finishing the installation…");
      postJson("/_sandbox/install", {user_id: config.user.id}).then(function () {
        window.location.reload();  // the page now launches the installed app for the same user
      }, function (error) { showStatus("Installation failed: " + error.message); });
    },
    selectUser: function (args, reply) { openPicker(false, reply); },
    selectUsers: function (args, reply) { openPicker(true, reply); }
  };

  window.addEventListener("message", function (event) {
    var message = event.data;
    if (!frame || event.source !== frame.contentWindow || event.origin !== config.app_origin) return;
    if (!message || message.protocol !== PROTOCOL || !config.app_sid || message.sid !== config.app_sid) return;
    if (!Object.prototype.hasOwnProperty.call(handlers, message.cmd)) return;
    handlers[message.cmd](message.args || {}, function (result) {
      event.source.postMessage({protocol: PROTOCOL, sid: config.app_sid, id: message.id, result: result},
                               config.app_origin);
    });
  });

  // The user picker of BX24.selectUser(s). Cancelling answers null, which the shim does not pass on:
  // the real dialog does not call back when closed.
  function openPicker(multiple, reply) {
    var box = document.getElementById("picker"), search = document.getElementById("picker-search");
    var list = document.getElementById("picker-list"), ok = document.getElementById("picker-ok");
    var cancel = document.getElementById("picker-cancel");
    var chosen = {};

    function close(result) {
      box.hidden = true;
      search.oninput = ok.onclick = cancel.onclick = null;
      reply(result);
    }

    function entry(user) {
      var item = document.createElement("li"), label = document.createElement("label");
      var position = document.createElement("small");
      if (multiple) {
        var checkbox = document.createElement("input");
        checkbox.type = "checkbox";
        checkbox.checked = Boolean(chosen[user.id]);
        checkbox.onchange = function () { chosen[user.id] = checkbox.checked; };
        label.appendChild(checkbox);
      } else {
        item.onclick = function () { close({id: user.id, name: user.name}); };
      }
      label.appendChild(document.createTextNode(" " + user.name + " "));
      position.textContent = user.position;
      label.appendChild(position);
      item.appendChild(label);
      return item;
    }

    function render() {
      var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
      list.textContent = "";
      config.users.forEach(function (user) {
        var text = (user.name + " " + user.position).toLowerCase();
        if (words.every(function (word) { return text.indexOf(word) >= 0; })) list.appendChild(entry(user));
      });
    }

    document.getElementById("picker-title").textContent = multiple ? "Select users" : "Select a user";
    ok.hidden = !multiple;
    search.value = "";
    search.oninput = render;
    cancel.onclick = function () { close(null); };
    ok.onclick = function () {
      close(config.users.filter(function (user) { return chosen[user.id]; })
                        .map(function (user) { return {id: user.id, name: user.name}; }));
    };
    render();
    box.hidden = false;
    search.focus();
  }

  var switcher = document.getElementById("user-switcher");
  switcher.querySelector("select").addEventListener("change", function () { switcher.submit(); });
  var uninstall = document.getElementById("uninstall-form");
  if (uninstall) {
    uninstall.addEventListener("submit", function (event) {
      event.preventDefault();
      postJson("/_sandbox/uninstall", {clean: 0}).then(function () { window.location.reload(); },
                                                     function (error) { showStatus("Uninstall failed: " + error.message); });
    });
  }
  // The automation rule's runner (portal_panels.html): the portal runs the rule as a workflow would
  // (POST /_sandbox/robot), and the result the app sends back with bizproc.event.send is shown when it comes.
  var robotForm = document.getElementById("robot-form");
  if (robotForm) {
    robotForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var fields = robotForm.elements, status = document.getElementById("robot-status");
      var properties = {name: fields.name.value};
      if (fields.start_at.value.trim()) properties.start_at = fields.start_at.value.trim();
      var invitees = fields.invitees.value.split(/[\s,]+/).filter(Boolean);
      if (invitees.length) properties.invitees = invitees;
      status.textContent = "Running…";
      postJson("/_sandbox/robot", {code: robotForm.dataset.code, user_id: config.user.id, properties: properties,
                                   document: fields.document.value || undefined}).then(function (ran) {
        status.textContent = "The app answered " + ran.status + "; waiting for its result…";
        waitForResult(ran.event_token, 60);
      }, function (error) { status.textContent = "The rule failed: " + error.message; });
    });
  }

  function waitForResult(token, triesLeft) {
    window.fetch("/_sandbox/state").then(function (r) { return r.json(); }).then(function (state) {
      var result = (state.robots.results || []).filter(function (r) { return r.event_token === token; })[0];
      var status = document.getElementById("robot-status");
      if (!result) {
        if (triesLeft > 0) window.setTimeout(function () { waitForResult(token, triesLeft - 1); }, 500);
        else status.textContent = "No result yet.";
        return;
      }
      var values = result.return_values || {}, item = document.createElement("li");
      item.className = "robot-result";
      if (values.join_url) {
        var link = document.createElement("a");
        link.href = values.join_url;
        link.target = "_blank";
        link.rel = "noopener";
        link.textContent = values.join_url;
        item.appendChild(link);
      } else {
        item.className += " robot-error";
        item.textContent = values.error || "no link";
      }
      document.getElementById("robot-results").prepend(item);
      status.textContent = "The workflow got its result.";
    });
  }

  if (window.location.origin !== config.portal_origin) document.getElementById("origin-warning").hidden = false;
  var launch = document.getElementById("launch-form");
  if (launch) launch.submit();  // the real launch: a form POST into the iframe
})(window, document);
