// The agent desktop: presence, offers with their screen-pop, dialer previews, contacts in hand, wrap-up.
import { $, duration, h, serverNow, showError, stateBadge, syncClock, toast, wireLogin } from "./common.js";
import { NumberedSocket, socketUrl } from "./protocol.js";
import { bubble, renderContact, renderOffer, renderPreview, updateWrap } from "./agent-view.js";

const state = { agent: null, since: 0, offer: null, offerView: null, contacts: new Map(), dispositions: [], queues: [] };
let socket = null;
let typingSent = 0;

const ui = {
  get dispositions() { return state.dispositions; },
  get queues() { return state.queues; },
  say: (id, text) => command("chat_send", { contact_id: id, text }).then((r) => appendMessage(id, r.message)),
  typing: (id) => {
    if (Date.now() - typingSent > 2000) { typingSent = Date.now(); socket.notify("chat_typing", { contact_id: id }); }
  },
  end: (id) => command("end", { contact_id: id }),
  reply: (id, body) => command("email_reply", { contact_id: id, body }).then((r) => r.message),
  extend: (id) => command("extend_wrap_up", { contact_id: id }),
  transfer: (id, queue) => command("transfer", { contact_id: id, queue }),
  complete: (id, disposition, notes) => command("complete", { contact_id: id, disposition, notes }),
};

function command(type, fields = {}) {
  const sent = socket.send(type, fields).then((result) => {
    if (result.agent) applyAgent(result.agent);
    return result;
  });
  sent.catch(showError);
  return sent;
}

const handlers = {
  welcome: (f) => { syncClock(f.at); },
  snapshot: (f) => {
    syncClock(f.at);
    Object.assign(state, { dispositions: f.dispositions, queues: f.queues_directory });
    applyAgent(f.agent);
    state.contacts.clear();
    $("#contacts").replaceChildren();
    for (const contact of f.contacts) addContact(contact);
    showOffer(f.offer);
    $("#controls").classList.remove("hidden");
    $("#work").classList.remove("hidden");
  },
  agent_state: (f) => applyAgent(f.agent),
  offer: (f) => showOffer(f),
  preview: (f) => showOffer(f),
  preview_ended: (f) => {
    if (state.offer?.contact_id === f.contact_id) showOffer(null);
    const why = (f.reasons || []).map((r) => r.detail).join("; ");
    toast(`Preview of ${f.lead_id} ended: ${f.reason}${why ? ` (${why})` : ""}`);
  },
  preview_result: (f) => toast(`Call to ${f.lead_id}: ${f.outcome.replace("_", " ")}`),
  offer_withdrawn: (f) => {
    if (state.offer?.reservation_id !== f.reservation_id) return;
    showOffer(null);
    toast(`Offer withdrawn (${f.reason})`);
  },
  contact_started: (f) => {
    if (state.offer?.contact_id === f.contact.id) showOffer(null);
    addContact(f.contact);
  },
  wrap_up: (f) => {
    const entry = state.contacts.get(f.contact_id);
    if (!entry) return;
    entry.contact.wrap_until = f.wrap_until;
    entry.contact.status = "wrap_up";
    $(".status", entry.card).textContent = "wrap up";
    updateWrap(entry.card, f.wrap_until);
  },
  contact_completed: (f) => removeContact(f.contact_id),
  contact_removed: (f) => removeContact(f.contact_id),
  chat_message: (f) => appendMessage(f.contact_id, f.message),
  chat_ended: (f) => {
    appendMessage(f.contact_id, { id: `end-${f.by}`, sender: "system", name: "", text: `Chat ended by ${f.by.replace("_", " ")}` });
  },
  typing: (f) => {
    const entry = state.contacts.get(f.contact_id);
    if (!entry) return;
    const line = $(".typing", entry.card);
    if (!line) return;
    line.textContent = "Customer is typing…";
    clearTimeout(entry.typingTimer);
    entry.typingTimer = setTimeout(() => (line.textContent = ""), 3000);
  },
  error: (f) => { if (f.ref == null) showError(f); },
};

function applyAgent(agent) {
  state.agent = agent;
  state.since = serverNow() - (agent.time_in_state || 0);
  $("#who").textContent = `${agent.name} (${agent.id})`;
  $("#agent-state").replaceChildren(stateBadge(agent.state, agent.reason));
  $("#agent-state").dataset.state = agent.state;
  if (agent.extension && !$("#extension").value) $("#extension").value = agent.extension;
  const offline = agent.state === "offline";
  $("#btn-login").disabled = !offline;
  for (const id of ["#btn-ready", "#btn-not-ready", "#btn-logout"]) $(id).disabled = offline;
  tick();
}

function showOffer(offer) {
  state.offer = offer;
  const box = $("#offer");
  if (!offer) { state.offerView = null; box.replaceChildren(); box.classList.add("hidden"); return; }
  const lead = offer.lead?.lead_id;
  state.offerView = offer.type === "preview"
    ? renderPreview(offer, {
      accept: () => command("preview_accept", { lead_id: lead, campaign: offer.lead.campaign }),
      skip: (reason) => command("preview_skip", { lead_id: lead, campaign: offer.lead.campaign, reason }),
    })
    : renderOffer(offer, {
      accept: () => command("accept", { contact_id: offer.contact_id }),
      reject: () => command("reject", { contact_id: offer.contact_id }).then(() => showOffer(null)),
    });
  box.replaceChildren(state.offerView.node);
  box.classList.remove("hidden");
}

function addContact(contact) {
  const existing = state.contacts.get(contact.id);
  if (existing) existing.card.remove();
  const card = renderContact(contact, ui);
  state.contacts.set(contact.id, { contact, card });
  $("#contacts").append(card);
  updateWrap(card, contact.status === "wrap_up" ? contact.wrap_until : null);
  $("#no-contacts").classList.add("hidden");
}

function removeContact(id) {
  state.contacts.get(id)?.card.remove();
  state.contacts.delete(id);
  $("#no-contacts").classList.toggle("hidden", state.contacts.size > 0);
}

function appendMessage(contactId, message) {
  const entry = state.contacts.get(contactId);
  const log = entry && $(".chat-log", entry.card);
  if (!log || log.querySelector(`[data-id="${message.id}"]`)) return; // a repeat after a snapshot
  log.append(bubble(message));
  log.scrollTop = log.scrollHeight;
}

function tick() {
  if (state.agent) $("#state-time").textContent = `${state.agent.state.replace("_", " ")} for ${duration(serverNow() - state.since)}`;
  state.offerView?.tick();
  for (const { contact, card } of state.contacts.values()) {
    if (contact.status === "wrap_up") updateWrap(card, contact.wrap_until);
  }
}

function connect(token) {
  socket = new NumberedSocket({
    url: socketUrl("/ws/v1/desktop"),
    opening: (resume) => ({
      type: "hello", protocol: 1, token, view: "agent",
      ...(resume ? { resume: { session: resume.session, last_seq: resume.lastSeq } } : {}),
    }),
    onFrame: (frame) => handlers[frame.type]?.(frame),
    onStatus: (status, detail) => {
      const conn = $("#conn");
      conn.className = `conn ${status}`;
      conn.textContent = status === "live" ? "connected" : `reconnecting${detail?.code ? ` (${detail.code})` : ""}`;
      if (status === "down" && [4401, 4403].includes(detail?.code)) toast(`Signed out: ${detail.reason}`);
    },
  });
  socket.connect();
}

function wireControls() {
  $("#btn-login").addEventListener("click", () => command("login", { extension: $("#extension").value.trim() || null }));
  $("#btn-ready").addEventListener("click", () => command("state", { state: "ready" }));
  $("#btn-not-ready").addEventListener("click", () => command("state", { state: "not_ready", reason: $("#nr-reason").value }));
  $("#btn-logout").addEventListener("click", () => command("logout"));
}

wireControls();
wireLogin((token) => connect(token));
setInterval(tick, 1000);
window.ringway = { state, h };
