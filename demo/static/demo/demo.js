// The demo page: live comments of one post and the user's notifications, through
// the project's JavaScript client. Everything the server sends is rendered with
// textContent, never as HTML.
import { RealtimeSocket } from "../realtime/client.js";

const config = JSON.parse(document.getElementById("demo-config").textContent);
const tokenUrl = config.tokenUrl;
// What the page's connections went through, for a look in the console (and the browser tests).
window.demo = { closes: [], refreshed: 0 };

function showState(element, socket) {
  socket.addEventListener("state", (event) => {
    element.dataset.state = event.detail.state;
    element.textContent = event.detail.state;
  });
  socket.addEventListener("close", (event) => window.demo.closes.push(event.detail.code));
  socket.addEventListener("refreshed", () => {
    window.demo.refreshed += 1;
  });
}

function time(iso) {
  return new Date(iso).toLocaleTimeString();
}

// --- Live comments ------------------------------------------------------------

if (config.postId !== null) {
  const list = document.getElementById("comments");
  const form = document.getElementById("comment-form");
  const body = document.getElementById("comment-body");
  const errorLine = document.getElementById("comment-error");
  const RETRYABLE = new Set(["unavailable", "rate_limited"]);
  const RESEND_DELAY = 2000;
  const pending = new Map(); // client_id -> body: sent, not yet acknowledged
  let inFlight = []; // client_ids sent on this connection, in order: the server answers each in turn
  let resendTimer = null;
  // Every (re)connect replays the post's visible comments (since=0, so the position
  // never moves): moderation events are live only, and a comment hidden or shown
  // again while the page was away must be caught up with too.
  const comments = new RealtimeSocket(`/ws/live-comments/${config.postId}`, {
    tokenUrl,
    since: 0,
    position: () => undefined,
  });
  showState(document.getElementById("comments-state"), comments);
  window.demo.comments = comments;
  let replayed = null; // ids seen since the last connect, until the replay is known to be over

  const render = (comment) => {
    const item = document.createElement("li");
    item.dataset.id = comment.id;
    const author = document.createElement("strong");
    author.textContent = comment.author;
    const when = document.createElement("time");
    when.dateTime = comment.created_at;
    when.textContent = time(comment.created_at);
    const text = document.createElement("span");
    text.className = "body";
    text.textContent = comment.body;
    item.append(author, " ", when, text);
    return item;
  };

  const place = (comment) => {
    replayed?.add(comment.id);
    if (list.querySelector(`li[data-id="${comment.id}"]`)) return;
    const later = [...list.querySelectorAll("li[data-id]")].find((li) => Number(li.dataset.id) > comment.id);
    list.insertBefore(render(comment), later || list.querySelector("li.pending"));
  };

  const remove = (commentId) => {
    replayed?.delete(commentId);
    list.querySelector(`li[data-id="${commentId}"]`)?.remove();
  };

  const pendingItem = (clientId) => list.querySelector(`li.pending[data-client-id="${CSS.escape(clientId)}"]`);

  const sendComment = (clientId) => {
    if (comments.send({ type: "new_comment", body: pending.get(clientId), client_id: clientId })) inFlight.push(clientId);
  };

  const sendPending = () => {
    for (const clientId of pending.keys()) if (!inFlight.includes(clientId)) sendComment(clientId);
  };

  const resendLater = () => {
    if (resendTimer !== null) return; // one resend for however many refusals
    resendTimer = setTimeout(() => {
      resendTimer = null;
      sendPending();
    }, RESEND_DELAY);
  };

  comments.addEventListener("comment", (event) => place(event.detail.comment));
  comments.addEventListener("comment_unhidden", (event) => place(event.detail.comment));
  comments.addEventListener("comment_hidden", (event) => remove(event.detail.comment_id));
  comments.addEventListener("comment_deleted", (event) => remove(event.detail.comment_id));
  comments.addEventListener("comment_created", (event) => {
    const clientId = event.detail.client_id;
    inFlight = inFlight.filter((id) => id !== clientId);
    pending.delete(clientId);
    pendingItem(clientId)?.remove();
  });
  // An error frame answers the oldest message still in flight (the server handles them in order).
  comments.addEventListener("error", (event) => {
    const { code, message } = event.detail;
    const clientId = inFlight.shift();
    errorLine.hidden = false;
    errorLine.textContent = message;
    if (clientId === undefined) return;
    if (RETRYABLE.has(code)) {
      resendLater(); // kept: sent again with the same client_id
    } else {
      pending.delete(clientId); // refused for good (too long, say): shown as such, not resent
      const item = pendingItem(clientId);
      if (item) {
        item.className = "failed";
        item.textContent = `${item.dataset.body} (not posted: ${message})`;
      }
    }
  });
  // The server answers a ping after everything it sent before: here, the replay.
  // Whatever is shown but was not replayed was hidden or deleted meanwhile.
  comments.addEventListener("pong", () => {
    if (replayed === null) return;
    for (const item of list.querySelectorAll("li[data-id]")) {
      if (!replayed.has(Number(item.dataset.id))) item.remove();
    }
    replayed = null;
  });
  // After a (re)connect, whatever was not acknowledged is sent again: the same
  // client_id makes a comment that did land the first time come back as its ack.
  comments.addEventListener("state", (event) => {
    if (event.detail.state !== "connected") return;
    inFlight = [];
    replayed = new Set();
    comments.send({ type: "ping" });
    sendPending();
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = body.value.trim();
    if (!text) return;
    const clientId = crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
    pending.set(clientId, text);
    const item = document.createElement("li");
    item.className = "pending";
    item.dataset.clientId = clientId;
    item.dataset.body = text;
    item.textContent = `${text} (sending…)`;
    list.append(item);
    errorLine.hidden = true;
    sendComment(clientId);
    body.value = "";
  });

  comments.start();
}

// --- Notifications --------------------------------------------------------------

const notificationList = document.getElementById("notifications");
const notifications = new RealtimeSocket("/ws/notifications", { tokenUrl, since: 0 });
showState(document.getElementById("notifications-state"), notifications);
window.demo.notifications = notifications;
notifications.addEventListener("notification", (event) => {
  const { id, created_at: createdAt, payload } = event.detail;
  if (notificationList.querySelector(`li[data-id="${id}"]`)) return;
  const item = document.createElement("li");
  item.dataset.id = id;
  const when = document.createElement("time");
  when.dateTime = createdAt;
  when.textContent = time(createdAt);
  const text = document.createElement("span");
  text.className = "body";
  text.textContent = typeof payload.text === "string" ? payload.text : JSON.stringify(payload);
  item.append(when, text);
  notificationList.prepend(item);
});
notifications.start();
