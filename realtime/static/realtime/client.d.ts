// TypeScript declarations of client.js, beside it (PROTOCOL.md, "Clients: Python and TypeScript").
//
//   import { RealtimeConnection, type CommentFrame } from "/static/realtime/client.js";
//
// The frames, between the <generated frames> marker lines, are generated from the
// server's TypedDicts (tests/typescript/declarations.py), and the tests check both
// that this file holds what they generate and that real servers send those frames.
// The classes, options, events and client messages after them are written by hand,
// as client.js is. tsc --strict checks tests/typescript/'s examples against this file.

// --- Frames ---------------------------------------------------------------------------------

// <generated frames> by tests/typescript/declarations.py from the server's TypedDicts: do not edit
/**
 * A user in presence and typing frames.
 * From `realtime.presence.model.PresentUser`.
 */
export interface PresentUser {
  id: unknown;
  username: string;
}

/**
 * From `comments.frames.CommentData`.
 */
export interface CommentData {
  id: number;
  post_id: number;
  author: string;
  body: string;
  created_at: string;
}

/**
 * From `realtime.frames.ErrorFrame`.
 */
export interface ErrorFrame {
  type: "error";
  code: string;
  message: string;
}

/**
 * From `realtime.frames.PingFrame`.
 */
export interface PingFrame {
  type: "ping";
}

/**
 * From `realtime.frames.PongFrame`.
 */
export interface PongFrame {
  type: "pong";
}

/**
 * From `realtime.frames.RefreshedFrame`.
 */
export interface RefreshedFrame {
  type: "refreshed";
  expires_at: string;
}

/**
 * `/ws/`: the answer to a `subscribe` (PROTOCOL.md, "One connection, many topics").
 * From `realtime.frames.SubscribedFrame`.
 */
export interface SubscribedFrame {
  type: "subscribed";
  topic: string;
}

/**
 * `/ws/`: the answer to an `unsubscribe`; nothing more of the topic comes after it.
 * From `realtime.frames.UnsubscribedFrame`.
 */
export interface UnsubscribedFrame {
  type: "unsubscribed";
  topic: string;
}

/**
 * SSE: a stream's first event; `stream` names it in the URL its client POSTs messages to.
 * From `realtime.frames.ConnectedFrame`.
 */
export interface ConnectedFrame {
  type: "connected";
  stream: string;
}

/**
 * SSE: a stream's last event, where a WebSocket would have been closed with `code`.
 * From `realtime.frames.CloseFrame`.
 */
export interface CloseFrame {
  type: "close";
  code: number;
  reason: string;
}

/**
 * After a replay (PROTOCOL.md, "Nothing lost"): the last id replayed, or, truncated, the newest there
 * is.
 * From `realtime.feeds.sequenced.ReplayComplete`.
 */
export interface ReplayCompleteFrame {
  type: "replay_complete";
  last_id: number;
  truncated: boolean;
}

/**
 * From `realtime.presence.model.StateFrame`.
 */
export interface PresenceStateFrame {
  type: "presence_state";
  topic: string;
  count: number;
  users?: PresentUser[];
}

/**
 * From `realtime.presence.model.DiffFrame`.
 */
export interface PresenceDiffFrame {
  type: "presence_diff";
  topic: string;
  count: number;
  joins?: PresentUser[];
  leaves?: PresentUser[];
}

/**
 * From `realtime.presence.model.TypingFrame`.
 */
export interface TypingFrame {
  type: "typing";
  topic: string;
  user: PresentUser;
}

/**
 * From `notifications.frames.NotificationFrame`.
 */
export interface NotificationFrame {
  type: "notification";
  id: number;
  created_at: string;
  payload: { [key: string]: unknown };
}

/**
 * Sent to every watcher of the post (the author included) once a comment is committed.
 * From `comments.frames.CommentFrame`.
 */
export interface CommentFrame {
  type: "comment";
  comment: CommentData;
}

/**
 * Sent to the author once the comment is committed: the acknowledgement.
 * From `comments.frames.CommentCreatedFrame`.
 */
export interface CommentCreatedFrame {
  type: "comment_created";
  comment_id: number;
  client_id: string | null;
}

/**
 * From `comments.frames.CommentHiddenFrame`.
 */
export interface CommentHiddenFrame {
  type: "comment_hidden";
  comment_id: number;
}

/**
 * From `comments.frames.CommentUnhiddenFrame`.
 */
export interface CommentUnhiddenFrame {
  type: "comment_unhidden";
  comment: CommentData;
}

/**
 * From `comments.frames.CommentDeletedFrame`.
 */
export interface CommentDeletedFrame {
  type: "comment_deleted";
  comment_id: number;
}

/**
 * What `/ws/` and SSE add to the frames they send: `topic` to every frame about a topic, `ref` to the
 * answer to a message that carried one (PROTOCOL.md, "One connection, many topics").
 * From `realtime.frames.Labels`.
 */
export interface Labels {
  topic?: string;
  ref?: string;
}

/**
 * Every frame a server sends, by its `type`. An interface: a site that adds its own kinds of
 * topics declares their frames into it (declaration merging).
 */
export interface FrameTypes {
  error: ErrorFrame;
  ping: PingFrame;
  pong: PongFrame;
  refreshed: RefreshedFrame;
  subscribed: SubscribedFrame;
  unsubscribed: UnsubscribedFrame;
  connected: ConnectedFrame;
  close: CloseFrame;
  replay_complete: ReplayCompleteFrame;
  presence_state: PresenceStateFrame;
  presence_diff: PresenceDiffFrame;
  typing: TypingFrame;
  notification: NotificationFrame;
  comment: CommentFrame;
  comment_created: CommentCreatedFrame;
  comment_hidden: CommentHiddenFrame;
  comment_unhidden: CommentUnhiddenFrame;
  comment_deleted: CommentDeletedFrame;
}

/** Any frame a server sends. */
export type Frame = FrameTypes[keyof FrameTypes];
// </generated frames>

/** The SSE transport's own frames: a connection reads them, never emits them. */
export type TransportFrameType = "connected" | "close";

/** The types of the frames the classes emit. */
export type EmittedFrameType = Exclude<keyof FrameTypes, TransportFrameType>;

/** A frame the classes emit. */
export type EmittedFrame = FrameTypes[EmittedFrameType];

/**
 * A frame about a topic, as `/ws/` and SSE send it: with its `topic`, and with `ref` when it
 * answers a message that carried one.
 */
export type TopicFrame<K extends EmittedFrameType = EmittedFrameType> = FrameTypes[K] & Labels & { topic: string };

/** The frames about no topic, which a RealtimeConnection emits itself. */
export type ConnectionFrame = (ErrorFrame | PingFrame | PongFrame | RefreshedFrame) & Labels;

// --- What the client sends ------------------------------------------------------------------

/**
 * Messages about a topic, sent with `Subscription.send()` (which adds the topic). An interface:
 * a site that adds its own kinds of topics declares their messages into it.
 */
export interface TopicMessages {
  new_comment: { type: "new_comment"; body: string; client_id?: string; ref?: string };
  typing: { type: "typing"; ref?: string };
}

export type TopicMessage = TopicMessages[keyof TopicMessages];

/** The messages of every token endpoint and of `/ws/` (PROTOCOL.md, "One connection, many topics"). */
export interface ClientMessages {
  subscribe: { type: "subscribe"; topic: string; since?: number; ref?: string };
  unsubscribe: { type: "unsubscribe"; topic: string; ref?: string };
  ping: { type: "ping" };
  pong: { type: "pong" };
  refresh: { type: "refresh"; token: string };
}

/** What `send()` takes: a message of the endpoint's, or a topic's (naming its topic on `/ws/`). */
export type ClientMessage = ClientMessages[keyof ClientMessages] | (TopicMessage & { topic?: string });

// --- Helpers --------------------------------------------------------------------------------

export declare const SUBPROTOCOL: "realtime.v1";

/** Close codes after which the client reconnects (PROTOCOL.md, "Close codes after accept"). */
export declare const RECONNECT_CODES: ReadonlySet<number>;

/** What the token endpoint answers (`POST /realtime/token/`). */
export interface TokenResponse {
  token: string;
  expires_in: number;
  expires_at: string;
}

/** One page of a feed's history (PROTOCOL.md, "History over HTTP"). */
export interface HistoryPage {
  items: Frame[];
  next_after: number | null;
}

/** The id of the feed entry a frame carries (comments and notifications), or undefined. */
export declare function defaultPosition(frame: Frame): number | undefined;

/** The delay before retry number `attempt` (from 0): exponential, capped, jittered. */
export declare function backoffDelay(attempt: number, minDelay: number, maxDelay: number, random?: () => number): number;

/** What a client reads the time from and sets its timers on (the `clock` option). */
export interface RealtimeClock {
  /** ms since the epoch, as Date.now(). */
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(timer: unknown): void;
}

/** The browser's clock: Date.now() and the window's timers. */
export declare const systemClock: RealtimeClock;

/** Django's CSRF token, from its cookie. */
export declare function csrfToken(): string;

/** The token endpoint answered 401: the user is not signed in. */
export declare class NotSignedIn extends Error {}

export declare function fetchToken(tokenUrl?: string): Promise<TokenResponse>;

/** A history page that could not be read; `retry`: trying again later may work. */
export declare class HistoryError extends Error {
  constructor(message: string, retry: boolean);
  readonly retry: boolean;
}

export declare function fetchHistory(url: string, after: number, token?: string | null): Promise<HistoryPage>;

// --- Options --------------------------------------------------------------------------------

interface CommonOptions {
  /** The token endpoint (default "/realtime/token/"). */
  tokenUrl?: string;
  /** Replaces the fetch from `tokenUrl`: a fresh token for each connection attempt and refresh. */
  getToken?: () => Promise<TokenResponse>;
  /** ms before the first retry (default 500); the backoff doubles up to `maxDelay` (default 30000). */
  minDelay?: number;
  maxDelay?: number;
  /** Refresh the token when this fraction of its lifetime is left (default 0.2). */
  refreshAhead?: number;
  /** ms a connection must stay open before the backoff starts again from its first step (default 10000). */
  stableAfter?: number;
  /** Close when the page is hidden for good, connect again (resuming) when it is shown (default true). */
  closeOnPageHide?: boolean;
  /**
   * The time and the timers the client uses (default: the page's `realtimeClock` when a script defined
   * one before, a test's, say; else `systemClock`).
   */
  clock?: RealtimeClock | null;
}

/** Options of a RealtimeSocket: one per-feed endpoint. */
export interface SocketOptions extends CommonOptions {
  /** The history URL of its feed, to fill truncated replays (default none). */
  history?: string | null;
  /** Resume after this id on the first connect. */
  since?: number | null;
  /** Reconnect after the last id seen (default true; false: with `since` again, every time). */
  resume?: boolean;
  /** The id of the feed entry a frame carries (default `defaultPosition`). */
  position?: (frame: Frame) => number | undefined;
}

/** Options of a RealtimeConnection: `/ws/`, with its fallback to Server-Sent Events. */
export interface ConnectionOptions extends CommonOptions {
  /** A topic "kind:key" is read from <historyBase>kind/key (default "/realtime/history/"). */
  historyBase?: string;
  /** The SSE endpoint: GET opens a stream, messages are POSTed to <sseUrl>/<stream> (default "/realtime/sse"). */
  sseUrl?: string;
  /** WebSockets failing in a row, the token endpoint answering, before SSE (default 2; Infinity: never). */
  fallbackAfter?: number;
  /** ms on SSE before a WebSocket is tried again, and again after each failure (default 300000). */
  websocketRetryAfter?: number;
}

/** Options of `RealtimeConnection.subscribe()`. */
export interface SubscriptionOptions {
  /** Replay the topic after this id on subscribing. */
  since?: number | null;
  /** Resubscribe after the last id seen (default true; false: with `since` again, every time). */
  resume?: boolean;
  /** The id of the feed entry a frame carries (default `defaultPosition`); history items have no topic. */
  position?: (frame: EmittedFrame & Labels) => number | undefined;
  /** The topic's history URL (default: the connection's `historyUrl(topic)`). */
  history?: string;
  /** ms: the server's TYPING_INTERVAL (default 3000). */
  typingInterval?: number;
}

// --- Events ---------------------------------------------------------------------------------

/** A connection's state: its "state" event, and `.state`. */
export type ConnectionState = "connecting" | "connected" | "reconnecting" | "refused" | "closed";

/** A subscription's state: its "state" event, and `.state`. */
export type SubscriptionState = "subscribing" | "subscribed" | "failed" | "unsubscribed";

/** Which transport a RealtimeConnection uses. */
export type Transport = "websocket" | "sse";

/** A `replay_complete`, which the client may have made whole from the history (`filled`). */
export type ReplayComplete<F = ReplayCompleteFrame> = F & { filled?: true };

/** A replay whose history could not be read. */
export type HistoryFailed<F = ReplayCompleteFrame> = F & { reason: string };

/** One event per frame type, its detail the frame (the transport's own frames excepted). */
export type FrameEvents<Added = {}> = {
  [K in EmittedFrameType]: CustomEvent<FrameTypes[K] & Added>;
};

interface ConnectionEvents {
  state: CustomEvent<{ state: ConnectionState }>;
  /** A socket closed (`opened`: it had opened); an SSE stream that dropped reports 1006. */
  close: CustomEvent<{ code: number; reason: string; opened: boolean }>;
  retry: CustomEvent<{ delay: number; attempt: number }>;
  /** The token endpoint said the user is not signed in. */
  refused: CustomEvent<{ reason: string }>;
}

export interface SocketEventMap extends FrameEvents, ConnectionEvents {
  message: CustomEvent<EmittedFrame>;
  replay_complete: CustomEvent<ReplayComplete>;
  history_failed: CustomEvent<HistoryFailed>;
}

export interface ConnectionEventMap extends ConnectionEvents {
  message: CustomEvent<ConnectionFrame>;
  error: CustomEvent<ErrorFrame & Labels>;
  ping: CustomEvent<PingFrame>;
  pong: CustomEvent<PongFrame>;
  refreshed: CustomEvent<RefreshedFrame>;
  /** The connection moved to another transport. */
  transport: CustomEvent<{ transport: Transport }>;
}

export interface SubscriptionEventMap extends FrameEvents<Labels & { topic: string }> {
  state: CustomEvent<{ state: SubscriptionState }>;
  message: CustomEvent<TopicFrame>;
  replay_complete: CustomEvent<ReplayComplete<TopicFrame<"replay_complete">>>;
  history_failed: CustomEvent<HistoryFailed<TopicFrame<"replay_complete">>>;
  /** A subscribe was sent (`since`: what it asked for), or, `resumed`, a reconnected SSE stream resumed the topic. */
  subscribe: CustomEvent<{ since: number | null; resumed?: true }>;
  presence: CustomEvent<{ count: number; users: PresentUser[] | null }>;
  typists: CustomEvent<{ users: PresentUser[] }>;
}

/**
 * An EventTarget typed by its `Events` alone: a misspelt event name is an error. (At run time the
 * classes are EventTargets; declaring them so would let any event name through.)
 */
export interface Emitting<Events> {
  addEventListener<K extends keyof Events & string>(
    type: K,
    listener: (event: Events[K]) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof Events & string>(
    type: K,
    listener: (event: Events[K]) => void,
    options?: boolean | EventListenerOptions,
  ): void;
  dispatchEvent(event: Event): boolean;
}

// --- Classes --------------------------------------------------------------------------------

/** One socket to one per-feed endpoint (`/ws/notifications`, `/ws/live-comments/<id>`). */
export declare class RealtimeSocket implements Emitting<SocketEventMap> {
  /** `path`: "/ws/notifications", "/ws/live-comments/<id>", or a full ws:// URL. */
  constructor(path: string, options?: SocketOptions);
  readonly url: string;
  readonly state: ConnectionState;
  /** Connections opened, ever. */
  readonly connects: number;
  /** The last token fetched. */
  readonly token: (TokenResponse & { receivedAt: number }) | null;
  /** The id of the last entry delivered: what a reconnect resumes after. */
  readonly since: number | null;
  /** Open the connection and keep it open until close(). */
  start(): this;
  /** Send a message; false when not connected (keep it, and send it again). */
  send(message: ClientMessage): boolean;
  close(): void;
  addEventListener: Emitting<SocketEventMap>["addEventListener"];
  removeEventListener: Emitting<SocketEventMap>["removeEventListener"];
  dispatchEvent(event: Event): boolean;
}

/** One connection to `/ws/` that follows many topics, over a WebSocket or, where those are blocked, SSE. */
export declare class RealtimeConnection implements Emitting<ConnectionEventMap> {
  constructor(path?: string, options?: ConnectionOptions);
  readonly url: string;
  readonly state: ConnectionState;
  readonly connects: number;
  readonly token: (TokenResponse & { receivedAt: number }) | null;
  /** "websocket", or "sse" while WebSockets cannot open. */
  readonly transport: Transport;
  readonly subscriptions: ReadonlyMap<string, Subscription>;
  /** Follow `topic` ("notifications", "comments:42"); throws if it is followed already. */
  subscribe(topic: string, options?: SubscriptionOptions): Subscription;
  /** The history URL of `topic`: "comments:42" -> <historyBase>comments/42. */
  historyUrl(topic: string): string;
  start(): this;
  send(message: ClientMessage): boolean;
  close(): void;
  addEventListener: Emitting<ConnectionEventMap>["addEventListener"];
  removeEventListener: Emitting<ConnectionEventMap>["removeEventListener"];
  dispatchEvent(event: Event): boolean;
}

/** A topic followed on a RealtimeConnection. */
export declare class Subscription implements Emitting<SubscriptionEventMap> {
  constructor(connection: RealtimeConnection, topic: string, options?: SubscriptionOptions);
  readonly connection: RealtimeConnection;
  readonly topic: string;
  readonly state: SubscriptionState;
  /** The id of the last entry delivered on the topic: what a resubscription resumes after. */
  readonly since: number | null;
  /** Presence: how many users follow the topic, and who (null past the server's list limit). */
  readonly count: number;
  readonly users: ReadonlyMap<unknown, PresentUser> | null;
  /** The users who typed within 2 x typingInterval, by id. */
  readonly typists: ReadonlyMap<unknown, { user: PresentUser }>;
  readonly typingInterval: number;
  /** Send a message about the topic (the topic is added); false when it cannot go now. */
  send(message: TopicMessage): boolean;
  /** Tell the others this user is typing; false when told within typingInterval (or it cannot go now). */
  typing(): boolean;
  unsubscribe(): void;
  addEventListener: Emitting<SubscriptionEventMap>["addEventListener"];
  removeEventListener: Emitting<SubscriptionEventMap>["removeEventListener"];
  dispatchEvent(event: Event): boolean;
}
