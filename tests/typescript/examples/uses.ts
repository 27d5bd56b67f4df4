// client.d.ts used as the contract says: tsc --strict accepts every line (tests/typescript/test_tsc.py).
import {
  RECONNECT_CODES,
  RealtimeConnection,
  RealtimeSocket,
  Subscription,
  backoffDelay,
  fetchHistory,
  fetchToken,
  NotSignedIn,
  type ConnectionState,
  type Frame,
  type NotificationFrame,
  type PresentUser,
  type TopicFrame,
  type Transport,
} from "../../../realtime/static/realtime/client.js";

const connection = new RealtimeConnection("/ws/", { tokenUrl: "/realtime/token/", websocketRetryAfter: 60_000 });

// The connection: its state, its transport, its closes, and the frames about no topic.
connection.addEventListener("state", (event) => {
  const state: ConnectionState = event.detail.state;
  if (state === "refused") console.log("sign in again");
});
connection.addEventListener("transport", (event) => {
  const transport: Transport = event.detail.transport;
  console.log(transport === "sse" ? "WebSockets are blocked: on Server-Sent Events" : "on a WebSocket");
});
connection.addEventListener("close", (event) => {
  const { code, reason, opened } = event.detail;
  if (RECONNECT_CODES.has(code)) console.log(`closed with ${code} (${reason}), opened: ${opened}`);
});
connection.addEventListener("error", (event) => console.log(event.detail.code, event.detail.message));
connection.addEventListener("refreshed", (event) => console.log(new Date(event.detail.expires_at)));
const onRetry = (event: CustomEvent<{ delay: number; attempt: number }>) => console.log(event.detail.delay);
connection.addEventListener("retry", onRetry);
connection.removeEventListener("retry", onRetry);

// A post's comments: frames by type, each with its topic (and ref, when answering a message).
const comments: Subscription = connection.subscribe("comments:42", { since: 0, resume: false });
comments.addEventListener("comment", (event) => {
  const frame: TopicFrame<"comment"> = event.detail;
  const id: number = frame.comment.id;
  console.log(id, frame.comment.author, frame.comment.body, frame.topic);
});
comments.addEventListener("comment_created", (event) => {
  const clientId: string | null = event.detail.client_id;
  const ref: string | undefined = event.detail.ref;
  console.log(event.detail.comment_id, clientId, ref);
});
comments.addEventListener("comment_hidden", (event) => console.log(event.detail.comment_id));
comments.addEventListener("comment_unhidden", (event) => console.log(event.detail.comment.created_at));
comments.addEventListener("replay_complete", (event) => {
  const { last_id: lastId, truncated, filled } = event.detail;
  console.log(lastId, truncated, filled === true);
});
comments.addEventListener("error", (event) => {
  if (event.detail.ref !== undefined && event.detail.code === "rate_limited") console.log("send it again later");
});
comments.addEventListener("subscribe", (event) => console.log(event.detail.since, event.detail.resumed ?? false));
comments.addEventListener("state", (event) => console.log(event.detail.state === "failed"));

// Any frame of the topic, narrowed by its type.
comments.addEventListener("message", (event) => {
  const frame = event.detail;
  switch (frame.type) {
    case "comment":
      console.log(frame.comment.body);
      break;
    case "presence_diff":
      console.log(frame.count, frame.joins?.length ?? 0, frame.leaves?.length ?? 0);
      break;
    default:
      console.log(frame.type, frame.topic);
  }
});

// Presence and typing.
comments.addEventListener("presence", (event) => {
  const users: PresentUser[] | null = event.detail.users;
  console.log(users === null ? `${event.detail.count} watching` : users.map((user) => user.username).join(", "));
});
comments.addEventListener("presence_state", (event) => console.log(event.detail.users?.length ?? event.detail.count));
comments.addEventListener("typing", (event) => console.log(`${event.detail.user.username} is typing`));
comments.addEventListener("typists", (event) => console.log(event.detail.users.length));
console.log(comments.count, comments.users?.size, comments.typists.size, comments.since, comments.state);

// Messages about the topic (the subscription adds the topic).
const sent: boolean = comments.send({ type: "new_comment", body: "Hello", client_id: "c-1", ref: "c-1" });
console.log(sent, comments.typing());

// The user's notifications, resumed after the last id seen.
const notifications = connection.subscribe("notifications", { since: 0 });
notifications.addEventListener("notification", (event) => {
  const frame: NotificationFrame = event.detail;
  const text = frame.payload["text"];
  if (typeof text === "string") console.log(frame.id, frame.created_at, text);
});

connection.start();
console.log(connection.transport, connection.state, connection.subscriptions.get("notifications")?.topic);
notifications.unsubscribe();
connection.send({ type: "ping" });
connection.close();

// One per-feed endpoint.
const feed = new RealtimeSocket("/ws/notifications", { since: 10, history: "/realtime/history/notifications" });
feed.addEventListener("notification", (event) => console.log(event.detail.payload));
feed.addEventListener("history_failed", (event) => console.log(event.detail.reason, event.detail.last_id));
feed.start().close();

// The helpers.
function idOf(frame: Frame): number | undefined {
  if (frame.type === "comment") return frame.comment.id;
  if (frame.type === "notification") return frame.id;
  return undefined;
}
async function helpers(): Promise<void> {
  console.log(backoffDelay(3, 500, 30_000));
  try {
    const { token, expires_in: expiresIn } = await fetchToken();
    const page = await fetchHistory("/realtime/history/comments/42", 0, token);
    console.log(expiresIn, page.items.map(idOf), page.next_after);
  } catch (error) {
    if (error instanceof NotSignedIn) console.log("not signed in");
  }
}
void helpers();
