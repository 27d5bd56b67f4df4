// A dependency-free client for this project's token endpoints
// (docs/how-to/javascript-client.md). An ES module:
//
//   import { RealtimeConnection, RealtimeSocket } from "/static/realtime/client.js";
//
// RealtimeConnection: one socket to /ws/ that follows many topics
//   (connection.subscribe("comments:42", { since: 0 }) -> a Subscription).
// RealtimeSocket: one socket to one per-feed endpoint (/ws/notifications, /ws/live-comments/<id>).
//
// Both get a token from the site's token endpoint (session auth), connect with
// the token in the subprotocols (realtime.v1 + bearer.<jwt>), answer the
// server's heartbeat pings, refresh the token before it expires, and, when the
// connection drops, reconnect with jittered exponential backoff and resume each
// feed after the last id seen there, so nothing is lost. A replay the server
// truncated (more than its REPLAY_LIMIT entries) is read from the history
// endpoint and delivered, in order, before the live entries that came meanwhile:
// every entry exactly once.
//
// States (the "state" event, and .state): "connecting", "connected",
// "reconnecting" (waiting to try again), "refused" (the token endpoint said the
// user is not signed in: no retry), "closed" (close() was called).
//
// Where WebSockets cannot open while HTTP works (a proxy that refuses the
// upgrade), RealtimeConnection follows its topics over Server-Sent Events
// instead, by itself, with the same API, and tries WebSockets again later:
// .transport ("websocket" or "sse") and the "transport" event say which it uses.
//
// TypeScript declarations: client.d.ts, beside this file.

export const SUBPROTOCOL = "realtime.v1";

// A socket's readyState (WebSocket's values; the SSE stream below uses them too).
const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;
// What a connection lost without a close frame reports (WebSocket's 1006).
const CLOSE_ABNORMAL = 1006;

// Close codes after which the client reconnects (docs/reference/close-codes.md).
// 1006 is also what a browser reports for a handshake the server refused (HTTP 403):
// every attempt starts with a new token, so a refusal is never retried with the same one.
export const RECONNECT_CODES = new Set([1001, 1006, 1011, 1012, 1013, 4012, 4401, 4408, 4410, 4429, 4503]);

const DEFAULTS = {
  tokenUrl: "/realtime/token/",
  historyBase: "/realtime/history/", // RealtimeConnection: a topic "kind:key" is read from <historyBase>kind/key
  history: null, // RealtimeSocket: the history URL of its feed, to fill truncated replays
  minDelay: 500, // ms, first retry (before jitter)
  maxDelay: 30000, // ms, cap of the exponential backoff
  refreshAhead: 0.2, // refresh when this fraction of the token's lifetime is left
  since: null, // resume after this id on the first connect
  resume: true, // reconnect after the last id seen (false: with `since` again, every time)
  stableAfter: 10000, // ms a connection must stay open before the backoff starts again from its first step
  position: defaultPosition, // frame -> the id of the feed entry it carries, or undefined
  // Close when the page is hidden for good or put in the back-forward cache (the user leaves at once,
  // presence included), and connect again, resuming, if the page is shown again.
  closeOnPageHide: true,
  // RealtimeConnection's fallback to Server-Sent Events (PROTOCOL.md, "Server-Sent Events").
  sseUrl: "/realtime/sse", // GET opens a stream; messages are POSTed to <sseUrl>/<stream>
  fallbackAfter: 2, // WebSocket handshakes failing in a row, the token endpoint answering, before SSE (Infinity: never)
  websocketRetryAfter: 300000, // ms on SSE before a WebSocket is tried again (and again after each failure)
  // What the client reads the time from and sets its timers on ({now, setTimeout, clearTimeout}):
  // null is the page's `realtimeClock` when a script defined one before (a test's, which moves it
  // on instead of waiting), else `systemClock`.
  clock: null,
};

// The browser's clock: Date.now() and the window's timers.
export const systemClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (timer) => clearTimeout(timer),
};

function clockOf(options) {
  return options.clock ?? globalThis.realtimeClock ?? systemClock;
}

// The id of the feed entry a frame carries: comments and notifications.
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

// A history page that could not be read; `retry` when trying again later may work.
export class HistoryError extends Error {
  constructor(message, retry) {
    super(message);
    this.retry = retry;
  }
}

// One page of a feed's history: {items, next_after} (PROTOCOL.md, "History over HTTP").
// The session cookie and, when there is one, the connection's token authenticate it.
export async function fetchHistory(url, after, token) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(`${url}${url.includes("?") ? "&" : "?"}after=${after}&limit=500`, {
      credentials: "same-origin",
      headers,
      cache: "no-store",
    });
  } catch (error) {
    throw new HistoryError(`the history could not be fetched: ${error.message}`, true);
  }
  if (!response.ok) {
    const retry = response.status >= 500 || response.status === 401 || response.status === 429;
    throw new HistoryError(`the history endpoint answered HTTP ${response.status}`, retry);
  }
  return response.json();
}

// Where one feed stands, and its entries delivered exactly once and in order.
//
// `request()` gives the `since` to (re)subscribe with. After a truncated replay
// (`replay_complete` with `truncated: true` and `last_id` H) the entries in
// (since, H] are read from the history, page by page, and delivered first; the
// frames that arrive meanwhile are held, then delivered after them. An entry
// whose id is not above the last one delivered is a duplicate and dropped.
class FeedCursor {
  constructor({ since, resume, position, history, token, deliver, failed, clock }) {
    this.first = since; // the since of the first subscription
    this.since = since; // the id of the last entry delivered (or the since asked for)
    this.resume = resume;
    this.position = position;
    this.history = history; // () => URL of the feed's history, or null
    this.token = token; // () => the current token string, or null
    this.deliver = deliver; // frame -> void
    this.failed = failed; // (frame) -> void: a history that cannot be read
    this.clock = clock;
    this.held = null; // frames that arrived during a history fill
    this.fills = 0; // bumped by every (re)subscription: an older fill's pages are dropped
    this.timer = null;
  }

  // The `since` of a (re)subscription; anything held or being filled is dropped (the replay resends it).
  request() {
    this.fills += 1;
    this.held = null;
    this.clock.clearTimeout(this.timer);
    if (!this.resume) this.since = this.first;
    return this.since;
  }

  stop() {
    this.fills += 1;
    this.held = null;
    this.clock.clearTimeout(this.timer);
  }

  receive(frame) {
    if (this.held !== null) {
      this.held.push(frame);
      return;
    }
    if (frame.type === "replay_complete" && frame.truncated) {
      this._startFill(frame);
      return;
    }
    const id = this.position(frame);
    if (id !== undefined) {
      if (this.since != null && id <= this.since) return; // delivered already
      this.since = id;
    }
    this.deliver(frame);
  }

  _startFill(complete) {
    const url = this.history();
    if (!url) {
      this.deliver(complete); // nothing to read it from: the application decides
      return;
    }
    this.held = [];
    this._fill(this.fills, url, this.since ?? 0, complete, 0);
  }

  async _fill(fill, url, after, complete, failures) {
    let cursor = after;
    try {
      for (;;) {
        const page = await fetchHistory(url, cursor, this.token());
        if (fill !== this.fills) return;
        let reached = false;
        for (const item of page.items) {
          const id = this.position(item);
          if (id === undefined || id > complete.last_id) {
            reached = true;
            break;
          }
          cursor = id;
          if (this.since == null || id > this.since) {
            this.since = id;
            this.deliver(item);
          }
        }
        if (reached || page.next_after == null || cursor >= complete.last_id) break;
        cursor = page.next_after;
      }
    } catch (error) {
      if (fill !== this.fills) return;
      if (error instanceof HistoryError && !error.retry) {
        this._release(complete, error.message);
        return;
      }
      const delay = backoffDelay(failures, DEFAULTS.minDelay, DEFAULTS.maxDelay);
      this.timer = this.clock.setTimeout(() => this._fill(fill, url, cursor, complete, failures + 1), delay);
      return;
    }
    this._release(complete, null);
  }

  // The fill is over: `replay_complete` (as if the replay had not been cut), then what was held.
  _release(complete, failure) {
    const held = this.held;
    this.held = null;
    if (failure !== null) this.failed(complete, failure);
    if (this.since == null || this.since < complete.last_id) this.since = complete.last_id;
    this.deliver({ ...complete, truncated: false, last_id: this.since, filled: true });
    for (const frame of held) this.receive(frame);
  }
}

// An EventTarget with a state: "state" events, and events whose detail is a frame or a fact.
class Emitter extends EventTarget {
  _setState(state) {
    if (this.state === state) return;
    this.state = state;
    this._emit("state", { state });
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

export class RealtimeSocket extends Emitter {
  // path: "/ws/notifications" or "/ws/live-comments/<post_id>" (or a full ws:// URL).
  // options: see DEFAULTS; getToken() may replace the fetch from tokenUrl.
  constructor(path, options = {}) {
    super();
    this.options = { ...DEFAULTS, ...options };
    this.clock = clockOf(this.options);
    this.getToken = this.options.getToken || (() => fetchToken(this.options.tokenUrl));
    this.url = path.includes("://") ? path : `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}${path}`;
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
    this.feed = new FeedCursor({
      since: this.options.since,
      resume: this.options.resume,
      position: this.options.position,
      history: () => this.options.history,
      token: () => this.token?.token ?? null,
      deliver: (frame) => this._emitFrame(frame),
      failed: (complete, reason) => this._emit("history_failed", { ...complete, reason }),
      clock: this.clock,
    });
  }

  // The id of the last entry delivered: what a reconnect resumes after.
  get since() {
    return this.feed.since;
  }

  // Open the connection, and keep it open until close(). Does nothing if already running.
  start() {
    if (this.running) return this;
    this.running = true;
    this._watchPage();
    this._connect();
    return this;
  }

  _watchPage() {
    if (this.pageWatched || !this.options.closeOnPageHide || typeof window === "undefined") return;
    this.pageWatched = true;
    let hidden = false;
    window.addEventListener("pagehide", () => {
      if (!this.running) return;
      hidden = true;
      this.close();
    });
    window.addEventListener("pageshow", () => {
      if (!hidden) return;
      hidden = false;
      this.start();
    });
  }

  // Send a JSON message; false when not connected (the caller keeps it and sends it again).
  send(message) {
    if (!this.socket || this.socket.readyState !== OPEN) return false;
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
    this._closed();
    this._setState("closed");
  }

  // --- Connecting ---------------------------------------------------------

  _current(generation) {
    return this.running && generation === this.generation;
  }

  // The URL of an attempt: the feed's resume position in `since`.
  _attemptUrl() {
    const since = this.feed.request();
    return since == null ? this.url : `${this.url}${this.url.includes("?") ? "&" : "?"}since=${since}`;
  }

  async _connect() {
    this.clock.clearTimeout(this.timers.retry);
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
    let socket;
    try {
      socket = this._open(token);
    } catch (error) {
      // The browser would not even try (a Content-Security-Policy, say): as a handshake that failed.
      this._emit("close", { code: CLOSE_ABNORMAL, reason: `${error}`, opened: false });
      this._lost(CLOSE_ABNORMAL, false);
      return;
    }
    this._attach(socket, generation);
  }

  // The socket of an attempt, once its token came (RealtimeConnection may open an SSE stream instead).
  _open(token) {
    return new WebSocket(this._attemptUrl(), [SUBPROTOCOL, `bearer.${token.token}`]);
  }

  // Make `socket` the connection's: its frames are received, its close is a reconnect
  // (or the end). `open`: the socket is open already (RealtimeConnection's probe).
  _attach(socket, generation, open = false) {
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      if (!this._current(generation)) return;
      opened = true;
      this.connects += 1;
      this._opened();
      this._setState("connected");
      this._scheduleRefresh(generation);
      this.timers.stable = this.clock.setTimeout(() => {
        this.attempt = 0; // it stayed open: the next drop starts the backoff afresh
      }, this.options.stableAfter);
    };
    socket.onmessage = (event) => {
      if (this._current(generation)) this._receive(event.data);
    };
    socket.onclose = (event) => {
      if (!this._current(generation)) return;
      this.socket = null;
      this.clock.clearTimeout(this.timers.refresh);
      this.clock.clearTimeout(this.timers.stable);
      this._closed();
      this._emit("close", { code: event.code, reason: event.reason, opened });
      this._lost(event.code, opened);
    };
    if (open) socket.onopen();
  }

  // The socket closed (not by close()): try again, unless its code says not to.
  _lost(code, opened) {
    if (!opened || RECONNECT_CODES.has(code)) this._retry();
    else {
      this.running = false;
      this._setState("closed");
    }
  }

  // A new token for every connection attempt and every refresh: a user signed out
  // of the site (the endpoint answers 401) is refused at the next attempt.
  async _token() {
    const fresh = await this.getToken();
    this.token = { ...fresh, receivedAt: this.clock.now() };
    return this.token;
  }

  _retry() {
    const delay = backoffDelay(this.attempt, this.options.minDelay, this.options.maxDelay);
    this.attempt += 1;
    this._setState("reconnecting");
    this._emit("retry", { delay, attempt: this.attempt });
    this.timers.retry = this.clock.setTimeout(() => this._connect(), delay);
  }

  // The socket opened (before the "connected" state is announced).
  _opened() {}

  // The socket is gone (closed by either side, or by close()).
  _closed() {
    this.feed.stop();
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
    this._route(frame);
  }

  // A frame of the connection's one feed.
  _route(frame) {
    this.feed.receive(frame);
  }

  _emitFrame(frame) {
    this._emit("message", frame);
    this._emit(frame.type, frame);
  }

  // Refresh when `refreshAhead` of the token's lifetime is left (a token without
  // a usable `expires_in` is not refreshed: the server closes with 4401 at its expiry).
  _scheduleRefresh(generation) {
    this.clock.clearTimeout(this.timers.refresh);
    const token = this.token;
    const lifetime = token ? Number(token.expires_in) * 1000 : NaN;
    if (!Number.isFinite(lifetime) || lifetime <= 0) return;
    const at = token.receivedAt + lifetime * (1 - this.options.refreshAhead);
    this.timers.refresh = this.clock.setTimeout(() => this._refresh(generation), Math.max(0, at - this.clock.now()));
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
      this.timers.refresh = this.clock.setTimeout(() => this._refresh(generation), this.options.minDelay * 4);
      return;
    }
    if (this._current(generation) && this.send({ type: "refresh", token: token.token })) {
      this._scheduleRefresh(generation);
    }
  }

  // --- Events ---------------------------------------------------------------


  _clearTimers() {
    for (const timer of Object.values(this.timers)) this.clock.clearTimeout(timer);
  }
}

// --- Server-Sent Events -----------------------------------------------------------
//
// An SSE stream of /realtime/sse (PROTOCOL.md, "Server-Sent Events: when
// WebSockets are blocked") with the little of the WebSocket API RealtimeSocket
// uses: readyState, send(text), close(), onopen, onmessage, onclose({code, reason}).
// An EventSource reads the stream; its first event, `connected`, names it and
// opens it. Each message sent is POSTed to <sseUrl>/<stream> (with the session's
// CSRF token, as the token endpoint's POST), one at a time, so that the server
// takes them in the order they were sent.
//
// Two events are the stream's own, never passed on:
// - `close` {code, reason}: the stream ended where a WebSocket would have been
//   closed with that code. EventSource is stopped (it would reconnect by itself)
//   and onclose gets the code: the connection reconnects after the same codes.
// - `connected` again after a drop: EventSource reconnected by itself, sending the
//   `id:` of the last event it got (Last-Event-ID), and the server resumed every
//   topic with stored entries where that cursor says. onsuspend tells of the drop,
//   onresume of the new `connected`.
// A stream that fails before its first `connected`, that EventSource gives up (an
// HTTP error: 401, 403, 429, 503), or whose POST is refused (the stream is gone:
// 404) closes with 1006, as a WebSocket whose handshake failed.

// ms before a message the stream refused for now (429: too many waiting) is POSTed again.
const POST_RETRY_DELAY = 500;

class EventStream {
  constructor(url, clock = systemClock) {
    this.url = url;
    this.clock = clock;
    this.readyState = CONNECTING;
    this.name = null; // the stream's id, from its `connected` event
    this.outbox = []; // messages waiting for their POST, in order
    this.posting = false;
    this.onopen = this.onmessage = this.onclose = this.onsuspend = this.onresume = null;
    this.source = new EventSource(url);
    this.source.onmessage = (event) => this._event(event);
    this.source.onerror = () => this._error();
  }

  send(text) {
    this.outbox.push(text);
    if (!this.posting) this._post();
  }

  close() {
    this.readyState = CLOSED;
    this.outbox = [];
    this.source.close();
  }

  _event(event) {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    if (frame.type === "connected") {
      const resumed = this.name !== null;
      this.name = frame.stream;
      this.readyState = OPEN;
      if (resumed) this.onresume?.();
      else this.onopen?.();
    } else if (frame.type === "close") {
      this._end(frame.code, frame.reason);
    } else {
      this.onmessage?.({ data: event.data });
    }
  }

  _error() {
    if (this.readyState === CLOSED) return;
    if (this.name === null || this.source.readyState === EventSource.CLOSED) {
      this._end(CLOSE_ABNORMAL, "the event stream could not be opened");
    } else if (this.readyState === OPEN) {
      // EventSource reconnects by itself; what was waiting to be sent went with the old stream.
      this.readyState = CONNECTING;
      this.outbox = [];
      this.onsuspend?.();
    }
  }

  _end(code, reason) {
    if (this.readyState === CLOSED) return;
    this.close();
    this.onclose?.({ code, reason });
  }

  async _post() {
    this.posting = true;
    while (this.readyState === OPEN && this.outbox.length > 0) {
      const stream = this.name;
      const status = await postToStream(`${this.url}/${encodeURIComponent(stream)}`, this.outbox[0]);
      if (this.readyState !== OPEN || this.name !== stream) continue; // dropped meanwhile, with its outbox
      if (status === 202) this.outbox.shift();
      else if (status === 429) await new Promise((resolve) => this.clock.setTimeout(resolve, POST_RETRY_DELAY));
      else this._end(CLOSE_ABNORMAL, `a message to the stream was answered ${status ? `HTTP ${status}` : "by no one"}`);
    }
    this.posting = false;
  }
}

// POST one message to an SSE stream: the HTTP status of the answer (0: none came).
async function postToStream(url, text) {
  try {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: text,
      cache: "no-store",
    });
    return response.status;
  } catch {
    return 0;
  }
}

// One connection to /ws/ for any number of topics (PROTOCOL.md, "One connection,
// many topics"). subscribe() returns a Subscription, which emits its topic's
// frames (as "message" and as their type) and keeps its own resume position.
// After every (re)connect each subscription is sent again with the last id seen
// on its topic. Frames about no topic (pong, refreshed, errors about the
// connection) are emitted by the connection itself.
//
// Transports (.transport, and the "transport" event {transport}): "websocket",
// or "sse" once `fallbackAfter` WebSockets in a row closed before they opened
// while the token endpoint answered (HTTP works, WebSockets are blocked on the
// way). On SSE the connection is the same: each topic is subscribed again, with
// the last id seen there, by a POST after the stream's `connected`, as after any
// reconnect; a close event's code is a WebSocket's close code. Every
// `websocketRetryAfter` a WebSocket is tried; the first that opens becomes the
// connection (the stream is closed, the topics subscribed there with their last
// ids): nothing is lost or delivered twice across a switch.
export class RealtimeConnection extends RealtimeSocket {
  constructor(path = "/ws/", options = {}) {
    super(path, { ...options, since: null, history: null, position: () => undefined });
    this.subscriptions = new Map(); // topic -> Subscription
    // Topics unsubscribed on this socket whose "unsubscribed" has not come yet: their frames are dropped.
    this.leaving = new Set();
    this.transport = "websocket";
    this.failedHandshakes = 0; // WebSockets closed before they opened, in a row, the token endpoint answering
    this.probe = null; // a WebSocket being tried while on SSE: {socket}
    this.timers.probe = null;
    // While an SSE stream that EventSource reconnected is resuming (see _resumed):
    // {waiting: subscriptions to resume, resumed: topics the stream's cursor resumed}.
    this.resume = null;
  }

  // Follow `topic` ("notifications", "comments:42"); options: since, resume, position, history (a URL).
  subscribe(topic, options = {}) {
    if (this.subscriptions.has(topic)) throw new Error(`already subscribed to ${topic}`);
    const subscription = new Subscription(this, topic, options);
    this.subscriptions.set(topic, subscription);
    if (this.socket && this.socket.readyState === OPEN) subscription._subscribe();
    else this.resume?.waiting.add(subscription); // an SSE stream reconnecting: subscribed once it has
    return subscription;
  }

  // The history URL of `topic`: "comments:42" -> <historyBase>comments/42.
  historyUrl(topic) {
    return `${this.options.historyBase}${topic.split(":").map(encodeURIComponent).join("/")}`;
  }

  start() {
    if (!this.running && this.transport === "sse") this._scheduleProbe();
    return super.start();
  }

  close() {
    this._dropProbe();
    super.close();
  }

  _opened() {
    for (const subscription of this.subscriptions.values()) subscription._subscribe();
  }

  _closed() {
    this.leaving.clear();
    this.resume = null;
    for (const subscription of this.subscriptions.values()) subscription._disconnected();
  }

  _route(frame) {
    if (this.resume !== null && this._resuming(frame)) return;
    const topic = frame.topic;
    if (topic === undefined) {
      this._emitFrame(frame);
    } else if (this.leaving.has(topic)) {
      // The end of an earlier subscription: its answer to the unsubscribe, or the
      // unsubscribe's not_subscribed when the subscribe itself had failed.
      if (frame.type === "unsubscribed" || (frame.type === "error" && frame.code === "not_subscribed")) {
        this.leaving.delete(topic);
      }
    } else {
      this.subscriptions.get(topic)?._receive(frame); // none: a topic given up meanwhile
    }
  }

  // Send an unsubscribe; until its answer, frames of the topic belong to the old subscription.
  _leave(topic) {
    if (this.send({ type: "unsubscribe", topic })) this.leaving.add(topic);
  }

  _forget(subscription) {
    if (this.subscriptions.get(subscription.topic) === subscription) this.subscriptions.delete(subscription.topic);
  }

  // --- WebSocket or SSE -------------------------------------------------------

  _open(token) {
    if (this.transport === "sse") return new EventStream(this.options.sseUrl, this.clock);
    return super._open(token);
  }

  _attach(socket, generation, open = false) {
    super._attach(socket, generation, open);
    if (!(socket instanceof EventStream)) return;
    socket.onsuspend = () => this._current(generation) && this._suspended();
    socket.onresume = () => this._current(generation) && this._resumed(generation);
  }

  // WebSockets that never open while the token endpoint answers are blocked on the
  // way: after `fallbackAfter` in a row the connection moves to SSE, at once.
  _lost(code, opened) {
    if (this.transport === "websocket") {
      this.failedHandshakes = opened ? 0 : this.failedHandshakes + 1;
      if (this.failedHandshakes >= this.options.fallbackAfter) {
        this._setTransport("sse");
        this._scheduleProbe();
        this._connect();
        return;
      }
    }
    super._lost(code, opened);
  }

  _setTransport(transport) {
    if (this.transport === transport) return;
    this.transport = transport;
    this._emit("transport", { transport });
  }

  _scheduleProbe() {
    this.clock.clearTimeout(this.timers.probe);
    this.timers.probe = this.clock.setTimeout(() => this._probe(), this.options.websocketRetryAfter);
  }

  // While on SSE: try a WebSocket (with a fresh token); if it opens, it becomes the connection.
  async _probe() {
    if (!this.running || this.transport !== "sse" || this.probe !== null) return;
    const probe = (this.probe = { socket: null });
    let token = null;
    try {
      token = await this._token();
    } catch {
      // The site is away, or the user signed out: the stream finds out too; try again later.
    }
    if (this.probe !== probe) return; // given up meanwhile (close())
    if (token === null) {
      this.probe = null;
      this._scheduleProbe();
      return;
    }
    let socket;
    try {
      socket = probe.socket = new WebSocket(this.url, [SUBPROTOCOL, `bearer.${token.token}`]);
    } catch {
      this.probe = null;
      this._scheduleProbe();
      return;
    }
    socket.onopen = () => {
      this.probe = null;
      this._switchTo(socket);
    };
    socket.onclose = () => {
      this.probe = null;
      this._scheduleProbe();
    };
  }

  _dropProbe() {
    const probe = this.probe;
    this.probe = null;
    this.clock.clearTimeout(this.timers.probe);
    if (probe?.socket) {
      probe.socket.onopen = probe.socket.onclose = null;
      probe.socket.close(1000);
    }
  }

  // A WebSocket opened: the SSE stream is closed and every topic subscribed on the socket,
  // after the last id seen there (what the stream held back is replayed; nothing comes twice).
  _switchTo(socket) {
    const generation = ++this.generation; // the stream's handlers, or an attempt under way, are ignored from now on
    const stream = this.socket;
    this.socket = null;
    for (const timer of [this.timers.retry, this.timers.refresh, this.timers.stable]) this.clock.clearTimeout(timer);
    if (stream) {
      stream.onopen = stream.onmessage = stream.onclose = null;
      stream.close();
    }
    this._closed();
    this.failedHandshakes = 0;
    this._setTransport("websocket");
    this._attach(socket, generation, true);
  }

  // --- An SSE stream that EventSource reconnected -------------------------------

  _suspended() {
    this.clock.clearTimeout(this.timers.stable);
    this.leaving.clear();
    this.resume = { waiting: new Set(this.subscriptions.values()), resumed: new Set() };
    for (const subscription of this.subscriptions.values()) subscription._suspended();
    this._emit("close", { code: CLOSE_ABNORMAL, reason: "the event stream dropped", opened: true });
    this._setState("reconnecting");
  }

  // The stream is back. The server resumed, from the stream's cursor, every topic
  // with stored entries (`subscribed`, the entries after the last one this client
  // got, `replay_complete`) before it reads any message, so the answer to a ping
  // sent now comes after all of them. Then the topics it did not resume (live-only
  // kinds, those subscribed meanwhile, and those with `resume: false`, which start
  // again from their `since`) are subscribed as after a reconnect, and the topics
  // it resumed for no subscription are left.
  _resumed(generation) {
    this.connects += 1;
    this._setState("connected");
    this._scheduleRefresh(generation);
    this.timers.stable = this.clock.setTimeout(() => {
      this.attempt = 0;
    }, this.options.stableAfter);
    this.send({ type: "ping" });
  }

  // A frame while resuming; true when it was taken here.
  _resuming(frame) {
    if (frame.type === "pong" && frame.topic === undefined) {
      this._resumedAll();
      return true;
    }
    if (frame.type !== "subscribed") return false;
    const subscription = this.subscriptions.get(frame.topic);
    if (subscription && !this.resume.waiting.has(subscription)) return false; // the answer to a subscribe sent since
    this.resume.resumed.add(frame.topic);
    if (subscription?.feed.resume) subscription._resumed(frame);
    return true;
  }

  _resumedAll() {
    const { waiting, resumed } = this.resume;
    this.resume = null;
    for (const topic of resumed) {
      if (this.subscriptions.get(topic)?.state !== "subscribed") this._leave(topic);
    }
    for (const subscription of waiting) {
      if (subscription.state === "subscribing" && this.subscriptions.get(subscription.topic) === subscription) {
        subscription._subscribe();
      }
    }
  }
}

// A topic followed on a RealtimeConnection. States (the "state" event, and
// .state): "subscribing" (sent, or waiting for the connection), "subscribed",
// "failed" (the server refused it: unknown_topic, not_found, forbidden,
// too_many_topics...; the "error" event says why, and it is not sent again),
// "unsubscribed". Every subscribe sent (the first, and one after each reconnect)
// is also a "subscribe" event, with the since it asked for.
//
// On topics with presence (PROTOCOL.md, "Presence and typing"): .count and
// .users (a Map id -> {id, username}; null past the server's list limit) follow
// presence_state and presence_diff, each update a "presence" event ({count,
// users}); typing() tells the others, at most once per typingInterval; .typists
// are the users who typed within 2 x typingInterval, each change a "typists"
// event ({users}).
export class Subscription extends Emitter {
  constructor(connection, topic, options = {}) {
    super();
    this.connection = connection;
    this.topic = topic;
    this.state = "subscribing";
    this.count = 0;
    this.users = new Map();
    this.typists = new Map(); // id -> {user, timer}
    this.typingInterval = options.typingInterval ?? 3000; // ms: the server's TYPING_INTERVAL
    this.lastTyping = -Infinity;
    this.clock = connection.clock;
    const history = options.history ?? connection.historyUrl(topic);
    this.feed = new FeedCursor({
      since: options.since ?? null,
      resume: options.resume ?? true,
      position: options.position ?? defaultPosition,
      history: () => history,
      token: () => connection.token?.token ?? null,
      // Entries read from the history carry no topic: the URL named it.
      deliver: (frame) => this._emitFrame(frame.topic === undefined ? { ...frame, topic } : frame),
      failed: (complete, reason) => this._emit("history_failed", { ...complete, reason }),
      clock: this.clock,
    });
  }

  // The id of the last entry delivered on this topic: what a reconnect resumes after.
  get since() {
    return this.feed.since;
  }

  // Send a message about this topic ({type: "new_comment", body, client_id}, say); false when it cannot go now.
  send(message) {
    if (this.state !== "subscribed" && this.state !== "subscribing") return false;
    return this.connection.send({ ...message, topic: this.topic });
  }

  // Tell the others this user is typing; false when it was told within typingInterval (or cannot go now).
  typing() {
    const now = this.clock.now();
    if (this.state !== "subscribed" || now - this.lastTyping < this.typingInterval) return false;
    this.lastTyping = now;
    return this.send({ type: "typing" });
  }

  unsubscribe() {
    if (this.state === "unsubscribed") return;
    this.feed.stop();
    this.connection._forget(this);
    if (this.state !== "failed") this.connection._leave(this.topic);
    this._setState("unsubscribed");
  }

  _subscribe() {
    if (this.state === "failed" || this.state === "unsubscribed") return;
    const since = this.feed.request();
    const message = { type: "subscribe", topic: this.topic };
    if (since != null) message.since = since;
    this._setState("subscribing");
    this.connection.send(message);
    this._emit("subscribe", { since: since ?? null });
  }

  _disconnected() {
    this.feed.stop();
    if (this.state === "subscribed") this._setState("subscribing");
  }

  // The SSE stream dropped and EventSource reconnects it (RealtimeConnection._suspended):
  // unlike a disconnect, the feed keeps what it holds, since the stream resumes where it was.
  _suspended() {
    if (this.state === "subscribed") this._setState("subscribing");
  }

  // The reconnected stream resumed the topic from its cursor, as a subscribe with `since` would.
  _resumed(subscribed) {
    this._emit("subscribe", { since: this.since, resumed: true });
    this._receive(subscribed);
  }

  _receive(frame) {
    if (this.state === "subscribing") {
      // The first answer about the topic after a subscribe is its answer; anything
      // before it belongs to an earlier subscription of the same topic.
      if (frame.type === "subscribed") {
        this._setState("subscribed");
        this._emitFrame(frame);
      } else if (frame.type === "error") {
        this.connection._forget(this);
        this._setState("failed");
        this._emitFrame(frame);
      }
      return;
    }
    if (this.state === "subscribed") this.feed.receive(frame);
  }

  _emitFrame(frame) {
    if (frame.type === "presence_state" || frame.type === "presence_diff") this._presence(frame);
    else if (frame.type === "typing") this._typed(frame.user);
    else if (frame.type === "comment") this._stoppedTyping((typist) => typist.username === frame.comment.author);
    this._emit("message", frame);
    this._emit(frame.type, frame);
  }

  // A presence_state replaces what was known; a diff changes it (a count-only one: the list is unknown).
  _presence(frame) {
    if (frame.type === "presence_state") {
      this.users = frame.users ? new Map(frame.users.map((user) => [user.id, user])) : null;
    } else if (frame.joins === undefined) {
      this.users = null;
    } else if (this.users !== null) {
      for (const user of frame.leaves) this.users.delete(user.id);
      for (const user of frame.joins) this.users.set(user.id, user);
    }
    this.count = frame.count;
    this._emit("presence", { count: this.count, users: this.users === null ? null : [...this.users.values()] });
  }

  _typed(user) {
    this.clock.clearTimeout(this.typists.get(user.id)?.timer);
    const stopped = () => this._stoppedTyping((typist) => typist.id === user.id);
    const timer = this.clock.setTimeout(stopped, 2 * this.typingInterval);
    this.typists.set(user.id, { user, timer });
    this._emitTypists();
  }

  _stoppedTyping(which) {
    let changed = false;
    for (const [id, { user, timer }] of this.typists) {
      if (!which(user)) continue;
      this.clock.clearTimeout(timer);
      this.typists.delete(id);
      changed = true;
    }
    if (changed) this._emitTypists();
  }

  _emitTypists() {
    this._emit("typists", { users: [...this.typists.values()].map(({ user }) => user) });
  }
}
