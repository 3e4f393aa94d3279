// The customer chat widget: start a chat, talk to an agent, resume after a reload.
import { $, h, showError } from "./common.js";
import { NumberedSocket, socketUrl } from "./protocol.js";

const STATUS_TEXT = { waiting: "Waiting for an agent…", connected: "Connected", ended: "Chat ended" };
let socket = null;
let saved = JSON.parse(sessionStorage.getItem("ringway.chat") || "null"); // {chat_id, token}
let startFrame = null;
let typingSent = 0;

const handlers = {
  welcome: (f) => {
    if (f.token) {
      saved = { chat_id: f.chat_id, token: f.token };
      sessionStorage.setItem("ringway.chat", JSON.stringify(saved));
    }
    $("#start").classList.add("hidden");
    $("#chat").classList.remove("hidden");
  },
  snapshot: (f) => {
    $("#log").replaceChildren();
    for (const message of f.chat.messages) append(message);
    setStatus(f.chat.status, f.chat.agent_name);
  },
  chat_status: (f) => setStatus(f.status, f.agent_name),
  chat_message: (f) => append(f.message),
  typing: () => {
    $("#typing").textContent = "Agent is typing…";
    clearTimeout(handlers.typingTimer);
    handlers.typingTimer = setTimeout(() => ($("#typing").textContent = ""), 3000);
  },
  error: (f) => {
    showError(f);
    if (f.seq === 0 && !saved) $("#start-chat").disabled = false; // a refused start: try again
  },
};

function setStatus(status, agentName) {
  const badge = $("#status");
  badge.textContent = status === "connected" && agentName ? `Connected to ${agentName}` : STATUS_TEXT[status];
  badge.dataset.status = status;
  const ended = status === "ended";
  $("#text").disabled = ended;
  $("#send").disabled = ended;
  $("#end").disabled = ended;
  if (ended) sessionStorage.removeItem("ringway.chat");
}

function append(message) {
  const log = $("#log");
  if (log.querySelector(`[data-id="${message.id}"]`)) return;
  log.append(h("div", { class: `msg ${message.sender === "customer" ? "agent" : message.sender === "agent" ? "customer" : "system"}`, dataset: { id: message.id, sender: message.sender } },
    h("span", { class: "who" }, message.sender === "customer" ? "You" : message.name), message.text));
  log.scrollTop = log.scrollHeight;
}

function open(first) {
  startFrame = first;
  socket = new NumberedSocket({
    url: socketUrl("/ws/v1/chat"),
    opening: (resume) => saved
      ? { type: "resume", chat_id: saved.chat_id, token: saved.token, last_seq: resume ? resume.lastSeq : 0 }
      : startFrame,
    onFrame: (frame) => handlers[frame.type]?.(frame),
    onStatus: (status, detail) => {
      if (status === "down" && detail?.code === 4401) { sessionStorage.removeItem("ringway.chat"); location.reload(); }
    },
  });
  socket.connect();
}

$("#start").addEventListener("submit", (event) => {
  event.preventDefault();
  $("#start-chat").disabled = true;
  const text = $("#first").value.trim();
  open({ type: "start", name: $("#name").value.trim(), email: $("#email").value.trim() || null, text: text || null });
});

$("#compose").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("#text").value.trim();
  if (!text) return;
  socket.send("message", { text }).then((r) => { $("#text").value = ""; append(r.message); }).catch(showError);
});

$("#text").addEventListener("input", () => {
  if (Date.now() - typingSent > 2000) { typingSent = Date.now(); socket.notify("typing"); }
});

$("#end").addEventListener("click", () => socket.send("end").catch(showError));

if (saved) open(null); // a reload: resume the chat from its first frame
