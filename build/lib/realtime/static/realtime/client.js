// A dependency-free client for this project's token endpoints (README, "Using it
// from your Django site"). An ES module: import { RealtimeSocket } from "/static/realtime/client.js".
//
// It gets a token from the site's token endpoint (session auth), connects with
// the token in the subprotocols (realtime.v1 + bearer.<jwt>), answers the
// server's heartbeat pings, refreshes the token before it expires, and, when
// the connection drops, reconnects with jittered exponential backoff and
// resumes with ?since=<last id seen>, so nothing is lost.
//
// States (the "state" event, and .state): "connecting", "connected",
// "reconnecting" (waiting to try again), "refused" (the token endpoint said the
// user is not signed in: no retry), "closed" (close() was called).

export const SUBPROTOCOL = "realtime.v1";

// Close codes after which the client reconnects (PROTOCOL.md and README, "Close codes").
// 1006 is also what a browser reports for a handshake the server refused (HTTP 403):
// every attempt starts with a new token, so a refusal is never retried with the same one.
export const RECONNECT_CODES = new Set([1001, 1006, 1011, 1012, 1013, 4012, 4401, 4408, 4410, 4429, 4503]);

const DEFAULTS = {
  tokenUrl: "/realtime/token/",
  minDelay: 500, // ms, first retry (before jitter)
  maxDelay: 30000, // ms, cap of the exponential backoff
  refreshAhead: 0.2, // refresh when this fraction of the token's lifetime is left
  since: null, // resume after this id on the first connect
  stableAfter: 10000, // ms a connection must stay open before the backoff starts again from its first step
  position: defaultPosition, // frame -> id to resume after, or undefined
};

// The id a frame moves the resume position to: comments and notifications.
export function defaultPosition(frame) {
  if (frame.type === "comment" && frame.comment) return frame.comment.id;
  if (frame.type === "notification") return frame.id;
  return undefined;
}

// Exponential backoff with jitter (between half and all of the step), so that
// many clients dropped at once (a server restart) do not come back at once.
export function backoffDelay(attempt, minDelay, maxDelay, random = Math.random) {
  const step = Math.min(maxDelay, minDelay * 2 ** attempt);
  return Math.round(step / 2 + (random() * step) / 2);
}

// Django's CSRF token, from its cookie (the token endpoint is a POST).
export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export class NotSignedIn extends Error {}

// Ask the site's token endpoint for a short-lived token; NotSignedIn on 401.
// Anything else (403 from a CSRF failure, 5xx, no network) is an error to retry.
export async function fetchToken(tokenUrl = DEFAULTS.tokenUrl) {
  const response = await fetch(tokenUrl, {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
    cache: "no-store",
  });
  if (response.status === 401) throw new NotSignedIn("the token endpoint answered 401: not signed in");
  if (!response.ok) throw new Error(`the token endpoint answered HTTP ${response.status}`);
  return response.json(); // {token, expires_in, expires_at}
}

export class RealtimeSocket extends EventTarget {
  // path: "/ws/notifications" or "/ws/live-comments/<post_id>" (or a full ws:// URL).
  // options: see DEFAULTS; getToken() may replace the fetch from tokenUrl.
  constructor(path, options = {}) {
    super();
    this.options = { ...DEFAULTS, ...options };
    this.getToken = this.options.getToken || (() => fetchToken(this.options.tokenUrl));
    this.url = path.includes("://") ? path : `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}${path}`;
    this.since = this.options.since;
    this.state = "closed";
    this.attempt = 0; // attempts since the last connection that stayed open (backoff step)
    this.connects = 0; // connections opened, ever
    this.socket = null;
    this.token = null; // the last token fetched: {token, expires_in, expires_at, receivedAt}
    this.timers = { retry: null, refresh: null, stable: null };
    this.running = false;
    // Bumped by every connection attempt and by close(): whatever an older attempt
    // (its socket's handlers, its token fetch, its refresh) finishes later is ignored.
    this.generation = 0;
  }

  // Open the connection, and keep it open until close(). Does nothing if already running.
  start() {
    if (this.running) return this;
    this.running = true;
    this._connect();
    return this;
  }

  // Send a JSON message; false when not connected (the caller keeps it and sends it again).
  send(message) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  close() {
    this.running = false;
    this.generation += 1;
    this._clearTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = null;
      socket.close(1000);
    }
    this._setState("closed");
  }

  // --- Connecting ---------------------------------------------------------

  _current(generation) {
    return this.running && generation === this.generation;
  }

  async _connect() {
    clearTimeout(this.timers.retry);
    const generation = ++this.generation;
    this._setState(this.connects === 0 && this.attempt === 0 ? "connecting" : "reconnecting");
    let token;
    try {
      token = await this._token();
    } catch (error) {
      if (!this._current(generation)) return;
      if (error instanceof NotSignedIn) {
        this.running = false;
        this._setState("refused");
        this._emit("refused", { reason: error.message });
        return;
      }
      this._retry(); // the site is away too: try again later
      return;
    }
    if (!this._current(generation)) return;
    const url = this.since == null ? this.url : `${this.url}${this.url.includes("?") ? "&" : "?"}since=${this.since}`;
    const socket = new WebSocket(url, [SUBPROTOCOL, `bearer.${token.token}`]);
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      if (!this._current(generation)) return;
      opened = true;
      this.connects += 1;
      this._setState("connected");
      this._scheduleRefresh(generation);
      this.timers.stable = setTimeout(() => {
        this.attempt = 0; // it stayed open: the next drop starts the backoff afresh
      }, this.options.stableAfter);
    };
    socket.onmessage = (event) => {
      if (this._current(generation)) this._receive(event.data);
    };
    socket.onclose = (event) => {
      if (!this._current(generation)) return;
      this.socket = null;
      clearTimeout(this.timers.refresh);
      clearTimeout(this.timers.stable);
      this._emit("close", { code: event.code, reason: event.reason, opened });
      if (!opened || RECONNECT_CODES.has(event.code)) this._retry();
      else {
        this.running = false;
        this._setState("closed");
      }
    };
  }

  // A new token for every connection attempt and every refresh: a user signed out
  // of the site (the endpoint answers 401) is refused at the next attempt.
  async _token() {
    const fresh = await this.getToken();
    this.token = { ...fresh, receivedAt: Date.now() };
    return this.token;
  }

  _retry() {
    const delay = backoffDelay(this.attempt, this.options.minDelay, this.options.maxDelay);
    this.attempt += 1;
    this._setState("reconnecting");
    this._emit("retry", { delay, attempt: this.attempt });
    this.timers.retry = setTimeout(() => this._connect(), delay);
  }

  // --- An open connection -------------------------------------------------

  _receive(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (frame.type === "ping") {
      this.send({ type: "pong" });
      return;
    }
    const position = this.options.position(frame);
    if (position !== undefined && (this.since == null || position > this.since)) this.since = position;
    this._emit("message", frame);
    this._emit(frame.type, frame);
  }

  // Refresh when `refreshAhead` of the token's lifetime is left (a token without
  // a usable `expires_in` is not refreshed: the server closes with 4401 at its expiry).
  _scheduleRefresh(generation) {
    clearTimeout(this.timers.refresh);
    const token = this.token;
    const lifetime = token ? Number(token.expires_in) * 1000 : NaN;
    if (!Number.isFinite(lifetime) || lifetime <= 0) return;
    const at = token.receivedAt + lifetime * (1 - this.options.refreshAhead);
    this.timers.refresh = setTimeout(() => this._refresh(generation), Math.max(0, at - Date.now()));
  }

  async _refresh(generation) {
    let token;
    try {
      token = await this._token();
    } catch (error) {
      if (!this._current(generation)) return;
      if (error instanceof NotSignedIn) {
        this._emit("refused", { reason: error.message }); // the server closes with 4401 at expiry
        return;
      }
      this.timers.refresh = setTimeout(() => this._refresh(generation), this.options.minDelay * 4);
      return;
    }
    if (this._current(generation) && this.send({ type: "refresh", token: token.token })) {
      this._scheduleRefresh(generation);
    }
  }

  // --- Events ---------------------------------------------------------------

  _setState(state) {
    if (this.state === state) return;
    this.state = state;
    this._emit("state", { state });
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  _clearTimers() {
    for (const timer of Object.values(this.timers)) clearTimeout(timer);
  }
}
