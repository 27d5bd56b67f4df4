// The demo page: live comments of one post and the user's notifications, two
// topics on one connection to /ws/ (the project's JavaScript client).
// Everything the server sends is rendered with textContent, never as HTML.
import { RealtimeConnection } from "../realtime/client.js";

const config = JSON.parse(document.getElementById("demo-config").textContent);
const connection = new RealtimeConnection("/ws/", { tokenUrl: config.tokenUrl });
// What the page's connection went through, for a look in the console (and the browser tests):
// its close codes, the refreshes of its token, and the comment ids delivered, in order.
window.demo = { connection, closes: [], refreshed: 0, delivered: [] };
connection.addEventListener("close", (event) => window.demo.closes.push(event.detail.code));
connection.addEventListener("refreshed", () => {
  window.demo.refreshed += 1;
});

// A widget's state: the connection's, and "connected" once its topic is subscribed.
function showState(element, subscription) {
  const update = () => {
    let state = connection.state;
    if (state === "connected") state = subscription.state === "subscribed" ? "connected" : subscription.state;
    element.dataset.state = state;
    element.textContent = state;
  };
  connection.addEventListener("state", update);
  subscription.addEventListener("state", update);
  update();
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
  const inFlight = new Set(); // client_ids sent on this subscription, not yet answered
  let resendTimer = null;
  // Every (re)subscription replays the post's visible comments (since 0, resume: false):
  // moderation events are live only, and a comment hidden or shown again while the
  // page was away must be caught up with too.
  const comments = connection.subscribe(`comments:${config.postId}`, { since: 0, resume: false });
  showState(document.getElementById("comments-state"), comments);
  window.demo.comments = comments;
  let replayed = null; // ids replayed since the last subscribe, until its replay_complete

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

  // The client_id doubles as the message's ref: its ack or error frame names it.
  const sendComment = (clientId) => {
    const message = { type: "new_comment", body: pending.get(clientId), client_id: clientId, ref: clientId };
    if (comments.send(message)) inFlight.add(clientId);
  };

  const sendPending = () => {
    for (const clientId of pending.keys()) if (!inFlight.has(clientId)) sendComment(clientId);
  };

  const resendLater = () => {
    if (resendTimer !== null) return; // one resend for however many refusals
    resendTimer = setTimeout(() => {
      resendTimer = null;
      sendPending();
    }, RESEND_DELAY);
  };

  comments.addEventListener("comment", (event) => {
    window.demo.delivered.push(event.detail.comment.id);
    place(event.detail.comment);
  });
  comments.addEventListener("comment_unhidden", (event) => place(event.detail.comment));
  comments.addEventListener("comment_hidden", (event) => remove(event.detail.comment_id));
  comments.addEventListener("comment_deleted", (event) => remove(event.detail.comment_id));
  comments.addEventListener("comment_created", (event) => {
    const clientId = event.detail.client_id;
    inFlight.delete(clientId);
    pending.delete(clientId);
    pendingItem(clientId)?.remove();
  });
  comments.addEventListener("error", (event) => {
    const { code, message, ref } = event.detail;
    errorLine.hidden = false;
    errorLine.textContent = message;
    if (ref === undefined || !inFlight.delete(ref)) return; // not about a comment (the subscribe was refused)
    if (RETRYABLE.has(code)) {
      resendLater(); // kept: sent again with the same client_id
    } else {
      pending.delete(ref); // refused for good (too long, say): shown as such, not resent
      const item = pendingItem(ref);
      if (item) {
        item.className = "failed";
        item.textContent = `${item.dataset.body} (not posted: ${message})`;
      }
    }
  });
  // Whatever is shown but was not replayed was hidden or deleted meanwhile.
  comments.addEventListener("replay_complete", () => {
    if (replayed === null) return;
    for (const item of list.querySelectorAll("li[data-id]")) {
      if (!replayed.has(Number(item.dataset.id))) item.remove();
    }
    replayed = null;
  });
  // After a (re)subscribe, whatever was not acknowledged is sent again: the same
  // client_id makes a comment that did land the first time come back as its ack.
  comments.addEventListener("subscribe", () => {
    inFlight.clear();
    replayed = new Set();
  });
  comments.addEventListener("subscribed", sendPending);

  // Who is watching the post, and who is writing.
  const watching = document.getElementById("watching");
  const typists = document.getElementById("typists");
  comments.addEventListener("presence", (event) => {
    const { count, users } = event.detail;
    watching.textContent =
      users === null ? `${count} watching` : `Watching: ${users.map((user) => user.username).join(", ")}`;
  });
  comments.addEventListener("typists", (event) => {
    const names = event.detail.users.map((user) => user.username);
    typists.textContent =
      names.length === 0 ? "" : `${names.join(" and ")} ${names.length === 1 ? "is" : "are"} typing…`;
  });
  body.addEventListener("input", () => comments.typing());

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
}

// --- Notifications --------------------------------------------------------------

const notificationList = document.getElementById("notifications");
const notifications = connection.subscribe("notifications", { since: 0 });
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

connection.start();
