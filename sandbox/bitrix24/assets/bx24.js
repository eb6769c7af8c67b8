/* BX24 shim of the sandbox Bitrix24 portal: the part of BX24.js (//api.bitrix24.com/api/v1/) the app uses.
   The app loads it from {portal}/_sandbox/bx24.js. Like the real one, it reads DOMAIN, PROTOCOL, LANG and
   APP_SID from the launch URL and talks to the portal page (the parent frame) with postMessage; REST calls
   go straight to the portal's /rest with the access token (the portal answers CORS for the app's origin).

   Up:   {protocol: "bx24-sandbox", sid: APP_SID, id, cmd, args}, sent to the portal's origin only
         cmd: init | refreshAuth | resize | installFinish | selectUser | selectUsers
   Down: {protocol: "bx24-sandbox", sid: APP_SID, id, result}, heard only from the parent at the portal's origin */
(function (window) {
  "use strict";
  var PROTOCOL = "bx24-sandbox";
  var INIT_TIMEOUT_MS = 3000;
  var STORAGE_KEY = "bx24-sandbox-launch";

  var launch = readLaunch();
  var state = {auth: null, expiresAt: 0, clientEndpoint: null, lang: launch.lang || "en", isAdmin: false,
               placement: "DEFAULT", placementOptions: {}, initialized: false, initStarted: false, initCallbacks: []};
  var pending = {};
  var nextId = 1;

  function storage() {
    try { return window.sessionStorage || null; } catch (error) { return null; }  // blocked in some frames
  }

  // The launch's query string, kept for pages the app opens later inside the same frame.
  function readLaunch() {
    var query = new URLSearchParams((window.location && window.location.search) || "");
    var found = {domain: query.get("DOMAIN"), protocol: query.get("PROTOCOL"), lang: query.get("LANG"),
                 sid: query.get("APP_SID")};
    var store = storage();
    try {
      if (found.domain && found.sid) {
        if (store) store.setItem(STORAGE_KEY, JSON.stringify(found));
        return found;
      }
      return (store && JSON.parse(store.getItem(STORAGE_KEY) || "null")) || found;
    } catch (error) {
      return found;
    }
  }

  function portalOrigin() { return (launch.protocol === "1" ? "https://" : "http://") + launch.domain; }

  function framed() {
    try { return Boolean(window.parent) && window.parent !== window; } catch (error) { return true; }
  }

  function later(callback, value) {
    setTimeout(function () { if (typeof callback === "function") callback(value); }, 0);
  }

  // False when there is no portal to ask (not framed, or no launch parameters).
  function send(cmd, args, callback) {
    if (!framed() || !launch.domain || !launch.sid) return false;
    var id = nextId++;
    if (callback) pending[id] = callback;
    window.parent.postMessage({protocol: PROTOCOL, sid: launch.sid, id: id, cmd: cmd, args: args || {}}, portalOrigin());
    return true;
  }

  window.addEventListener("message", function (event) {
    var message = event.data;
    if (event.origin !== portalOrigin() || event.source !== window.parent) return;
    if (!message || message.protocol !== PROTOCOL || !launch.sid || message.sid !== launch.sid) return;
    var callback = pending[message.id];
    if (!callback) return;
    delete pending[message.id];
    callback(message.result);
  });

  // --- init and auth ---

  function applyAuth(auth) {
    if (!auth || !auth.access_token) return;
    state.auth = {access_token: auth.access_token, refresh_token: auth.refresh_token, domain: auth.domain,
                  member_id: auth.member_id};
    state.expiresAt = Date.now() + Number(auth.expires_in) * 1000;
  }

  function applyInit(answer) {
    if (!answer) return;
    applyAuth(answer.auth);
    state.clientEndpoint = answer.client_endpoint || null;
    state.lang = answer.lang || state.lang;
    state.isAdmin = Boolean(answer.is_admin);
    state.placement = answer.placement || "DEFAULT";
    state.placementOptions = answer.placement_options || {};
  }

  function finishInit() {
    if (state.initialized) return;
    state.initialized = true;
    var callbacks = state.initCallbacks;
    state.initCallbacks = [];
    callbacks.forEach(function (callback) { if (typeof callback === "function") callback(); });
  }

  function init(callback) {
    if (state.initialized) { later(callback); return; }
    state.initCallbacks.push(callback);
    if (state.initStarted) return;
    state.initStarted = true;
    // Outside the portal's frame, or when no portal answers, the page goes on without auth instead of hanging.
    var timer = setTimeout(finishInit, INIT_TIMEOUT_MS);
    var sent = send("init", {}, function (answer) {
      clearTimeout(timer);
      applyInit(answer);
      finishInit();
    });
    if (!sent) { clearTimeout(timer); later(finishInit); }
  }

  function getAuth() {
    if (!state.auth) return false;
    var left = Math.floor((state.expiresAt - Date.now()) / 1000);
    if (left <= 0) return false;  // as BX24.js: an expired token is no auth
    return {access_token: state.auth.access_token, refresh_token: state.auth.refresh_token, expires_in: left,
            domain: state.auth.domain, member_id: state.auth.member_id};
  }

  function refreshAuth(callback) {
    var sent = send("refreshAuth", {}, function (answer) {
      if (answer && answer.auth) applyAuth(answer.auth);
      if (typeof callback === "function") callback(getAuth());
    });
    if (!sent) later(callback, false);
  }

  // --- REST ---

  function AjaxError(status, ex) { this.status = status; this.ex = ex; }
  AjaxError.prototype.getError = function () { return this.ex; };
  AjaxError.prototype.getStatus = function () { return this.status; };
  AjaxError.prototype.toString = function () {
    return (this.ex.error || "ERROR") + (this.ex.error_description ? ": " + this.ex.error_description : "");
  };

  function AjaxResult(answer, status, query) { this.answer = answer || {}; this.status = status; this.query = query; }
  AjaxResult.prototype.error = function () {
    // Calendar errors come with an empty code (error: ""), so the status counts too.
    var failed = this.status < 200 || this.status >= 300 || Object.prototype.hasOwnProperty.call(this.answer, "error");
    return failed ? new AjaxError(this.status, {error: this.answer.error, error_description: this.answer.error_description}) : null;
  };
  AjaxResult.prototype.data = function () { return this.answer.result; };
  AjaxResult.prototype.more = function () { return this.answer.next !== undefined && this.answer.next !== null; };
  AjaxResult.prototype.total = function () { return parseInt(this.answer.total, 10) || 0; };
  AjaxResult.prototype.time = function () { return this.answer.time; };
  AjaxResult.prototype.next = function (callback) {
    if (!this.more() || !this.query) return false;
    var params = Object.assign({}, this.query.params, {start: this.answer.next});
    callMethod(this.query.method, params, callback || this.query.callback);
    return true;
  };

  function post(method, params, token) {
    var url = (state.clientEndpoint || portalOrigin() + "/rest/") + encodeURIComponent(method) + ".json";
    var body = JSON.stringify(Object.assign({}, params || {}, {auth: token}));
    return window.fetch(url, {method: "POST", headers: {"Content-Type": "application/json"}, body: body}).then(
      function (response) {
        return response.json().then(function (answer) { return {answer: answer, status: response.status}; }, function () {
          return {answer: {error: "INVALID_RESPONSE", error_description: "The portal did not answer JSON"}, status: response.status};
        });
      },
      function (error) { return {answer: {error: "NETWORK_ERROR", error_description: String(error)}, status: 0}; });
  }

  function callMethod(method, params, callback, retried) {
    var auth = getAuth();
    if (!auth && state.auth && !retried) {  // held a token that has run out: renew it first, as BX24.js does
      refreshAuth(function () { callMethod(method, params, callback, true); });
      return;
    }
    post(method, params, auth ? auth.access_token : "").then(function (outcome) {
      if (outcome.status === 401 && outcome.answer.error === "expired_token" && !retried) {
        refreshAuth(function () { callMethod(method, params, callback, true); });
        return;
      }
      if (typeof callback === "function") {
        callback(new AjaxResult(outcome.answer, outcome.status, {method: method, params: params || {}, callback: callback}));
      }
    });
  }

  // http_build_query, for batch commands "method?query".
  function buildQuery(params) {
    var pairs = [];
    (function flatten(prefix, value) {
      if (value === null || value === undefined) return;
      if (value instanceof Date) value = value.toISOString();
      if (typeof value === "object") {
        Object.keys(value).forEach(function (key) { flatten(prefix ? prefix + "[" + key + "]" : key, value[key]); });
        return;
      }
      if (typeof value === "boolean") value = value ? "1" : "0";
      pairs.push(encodeURIComponent(prefix) + "=" + encodeURIComponent(String(value)));
    })("", params || {});
    return pairs.join("&");
  }

  function batchEntry(outcome, body, key, query) {
    if (outcome.error()) return new AjaxResult(outcome.answer, outcome.status, query);
    var section = function (name) { return body[name] ? body[name][key] : undefined; };
    if (section("result_error")) return new AjaxResult(section("result_error"), 400, query);
    return new AjaxResult({result: section("result"), total: section("result_total"), next: section("result_next"),
                           time: section("result_time")}, outcome.status, query);
  }

  function callBatch(calls, callback, haltOnError) {
    var isList = Array.isArray(calls), keys = Object.keys(calls), cmd = isList ? [] : {}, queries = {};
    keys.forEach(function (key) {
      var call = calls[key];
      var method = Array.isArray(call) ? call[0] : call.method;
      var params = (Array.isArray(call) ? call[1] : call.params) || {};
      queries[key] = {method: method, params: params};
      cmd[key] = method + "?" + buildQuery(params);
    });
    callMethod("batch", {halt: haltOnError ? 1 : 0, cmd: cmd}, function (outcome) {
      var body = outcome.data() || {}, results = isList ? [] : {};
      keys.forEach(function (key) { results[key] = batchEntry(outcome, body, key, queries[key]); });
      if (typeof callback === "function") callback(results);
    });
  }

  // --- the frame ---

  function getScrollSize() {
    var doc = window.document, root = (doc && doc.documentElement) || {}, body = (doc && doc.body) || {};
    return {scrollWidth: Math.max(root.scrollWidth || 0, body.scrollWidth || 0),
            scrollHeight: Math.max(root.scrollHeight || 0, body.scrollHeight || 0)};
  }

  function resizeWindow(width, height, callback) {
    if (!send("resize", {width: width, height: height}, callback)) later(callback);
  }

  function picker(cmd, callback) {
    // The portal answers null when the dialog is closed; like the real one, no callback then.
    send(cmd, {}, function (choice) { if (choice && typeof callback === "function") callback(choice); });
  }

  window.BX24 = {
    init: init,
    getAuth: getAuth,
    refreshAuth: refreshAuth,
    callMethod: callMethod,
    callBatch: callBatch,
    fitWindow: function (callback) { resizeWindow("100%", getScrollSize().scrollHeight, callback); },
    resizeWindow: resizeWindow,
    // b24restdocs sdk/bx24-js-sdk/additional-functions/bx24-set-title.md: the title is made a string.
    setTitle: function (title, callback) {
      if (!send("setTitle", {title: String(title)}, callback)) later(callback);
    },
    // bx24-open-path.md: a path of this portal, starting with "/", opened in a slider; the SDK adds
    // from=rest_placement&from_app; the callback hears of an error or of the slider's closing.
    openPath: function (path, callback) {
      if (!send("openPath", {path: String(path)}, callback)) later(callback);
    },
    getScrollSize: getScrollSize,
    installFinish: function () { send("installFinish", {}); },
    selectUser: function (callback) { picker("selectUser", callback); },
    selectUsers: function (callback) { picker("selectUsers", callback); },
    isAdmin: function () { return state.isAdmin; },
    getLang: function () { return state.lang; },
    getDomain: function () { return launch.domain || false; },
    placement: {info: function () { return {placement: state.placement, options: state.placementOptions}; }},
    closeApplication: function () {}  // a slider of the real portal; the sandbox page has none to close
  };
})(window);
