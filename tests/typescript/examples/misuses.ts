// client.d.ts misused: tsc --strict must refuse each line marked `// error TS<code>`, with that code,
// and nothing else (tests/typescript/test_tsc.py).
import { RealtimeConnection, backoffDelay, type TopicFrame } from "../../../realtime/static/realtime/client.js";

const connection = new RealtimeConnection("/ws/", { fallbackAfter: "2" }); // error TS2322
const comments = connection.subscribe("comments:42", { since: "0" }); // error TS2322

// Events: only those the class emits, each with its own detail.
comments.addEventListener("coment", () => undefined); // error TS2345
connection.addEventListener("comment", () => undefined); // error TS2345
connection.addEventListener("close", (event) => event.detail.wasClean); // error TS2339
comments.addEventListener("comment", (event) => {
  const id: string = event.detail.comment.id; // error TS2322
  console.log(id, event.detail.comment.text); // error TS2339
});
comments.addEventListener("comment_created", (event) => event.detail.client_id.length); // error TS18047
comments.addEventListener("presence_state", (event) => event.detail.users.length); // error TS18048
comments.addEventListener("presence", (event) => event.detail.users.length); // error TS18047
comments.addEventListener("notification", (event) => {
  const count: number = event.detail.payload["count"]; // error TS2322
  console.log(count);
});

// Frames: a type narrows them, a frame of another type has none of its keys.
function body(frame: TopicFrame): string {
  if (frame.type === "notification") return frame.comment.body; // error TS2339
  return frame.topic;
}

// Messages: those the server takes, complete.
comments.send({ type: "new_comment" }); // error TS2345
comments.send({ type: "new_coment", body: "Hello" }); // error TS2820
connection.send({ type: "subscribe" }); // error TS2345

// What the connection says is read-only, and only what it can be.
connection.transport = "sse"; // error TS2540
const onWebSocket: "websocket" = connection.transport; // error TS2322
comments.subscribe("comments:43"); // error TS2551
backoffDelay(1); // error TS2554

console.log(body, onWebSocket);
