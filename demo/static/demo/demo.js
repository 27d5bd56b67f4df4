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
  const pending = new Map(); // client_id -> body: sent, not yet acknowledged
  const comments = new RealtimeSocket(`/ws/live-comments/${config.postId}`, { tokenUrl, since: 0 });
  showState(document.getElementById("comments-state"), comments);
  window.demo.comments = comments;

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
    if (list.querySelector(`li[data-id="${comment.id}"]`)) return;
    const later = [...list.querySelectorAll("li[data-id]")].find((li) => Number(li.dataset.id) > comment.id);
    list.insertBefore(render(comment), later || list.querySelector("li.pending"));
  };

  const remove = (commentId) => list.querySelector(`li[data-id="${commentId}"]`)?.remove();

  const sendPending = () => {
    for (const [clientId, text] of pending) comments.send({ type: "new_comment", body: text, client_id: clientId });
  };

  comments.addEventListener("comment", (event) => place(event.detail.comment));
  comments.addEventListener("comment_unhidden", (event) => place(event.detail.comment));
  comments.addEventListener("comment_hidden", (event) => remove(event.detail.comment_id));
  comments.addEventListener("comment_deleted", (event) => remove(event.detail.comment_id));
  comments.addEventListener("comment_created", (event) => {
    pending.delete(event.detail.client_id);
    list.querySelector(`li.pending[data-client-id="${CSS.escape(event.detail.client_id)}"]`)?.remove();
  });
  comments.addEventListener("error", (event) => {
    const { code, message } = event.detail;
    if (code === "unavailable" || code === "rate_limited") {
      setTimeout(sendPending, 2000); // kept: sent again with the same client_id
    }
    errorLine.hidden = false;
    errorLine.textContent = message;
  });
  // After a reconnect, whatever was not acknowledged is sent again: the same
  // client_id makes a comment that did land the first time come back as its ack.
  comments.addEventListener("state", (event) => {
    if (event.detail.state === "connected") sendPending();
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
    item.textContent = `${text} (sending…)`;
    list.append(item);
    errorLine.hidden = true;
    comments.send({ type: "new_comment", body: text, client_id: clientId });
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
