// Rendering for the agent desktop: the screen-pop and one card per contact in hand.
import { $, duration, h, serverNow, tierBadge } from "./common.js";

const channelTag = (channel) => h("span", { class: "badge channel" }, channel);

export function renderOffer(offer, actions) {
  const pop = offer.pop || {};
  const contact = offer.contact || {};
  const customer = pop.customer;
  const left = h("span", { class: "countdown", id: "offer-countdown" });
  const tick = () => (left.textContent = duration(offer.deadline - serverNow()));
  tick();
  return {
    tick,
    node: h("div", {},
      h("div", { class: "row" },
        h("h2", { class: "grow" }, channelTag(offer.channel), ` New ${offer.channel} — `,
          h("span", { id: "offer-label" }, pop.label || "Unknown"), " ",
          h("span", { id: "offer-tier" }, tierBadge(pop.tier)), ` · queue ${offer.queue}`),
        left,
        h("button", { id: "offer-accept", onclick: actions.accept }, "Accept"),
        h("button", { id: "offer-reject", class: "danger", onclick: actions.reject }, "Reject")),
      h("div", { class: "pop-grid" },
        customer ? customerCard(customer) : candidatesCard(pop),
        inputsCard(contact),
        historyCard(pop),
        preview(contact)),
      h("p", { class: "reason", id: "offer-reason" }, pop.reason ? `Why you: ${pop.reason.summary}` : "")),
  };
}

// A preview dialer's lead: read it, then dial now or skip it (nothing is dialled yet).
export function renderPreview(frame, actions) {
  const lead = frame.lead || {};
  const pop = frame.pop || {};
  const verdict = lead.verdict || { allowed: false, checks: [] };
  const left = h("span", { class: "countdown", id: "preview-countdown" });
  const tick = () => (left.textContent = `${duration(frame.deadline - serverNow())} then ${lead.on_timeout}`);
  tick();
  const reason = h("input", { id: "preview-skip-reason", placeholder: "Why skip (optional)" });
  return {
    tick,
    node: h("div", { id: "preview", dataset: { lead: lead.lead_id } },
      h("div", { class: "row" },
        h("h2", { class: "grow" }, channelTag("preview"), ` Call ${lead.name || "lead"} — `,
          h("span", { id: "preview-number" }, lead.number), ` · campaign ${lead.campaign}`),
        left,
        h("button", { id: "preview-accept", onclick: actions.accept }, "Dial now"),
        reason,
        h("button", { id: "preview-skip", class: "secondary", onclick: () => actions.skip(reason.value) }, "Skip")),
      h("div", { class: "pop-grid" },
        h("dl", { id: "preview-lead" },
          h("dt", {}, "Lead"), h("dd", {}, lead.lead_id),
          h("dt", {}, "Attempts"), h("dd", {}, `${lead.attempts}${lead.outcomes?.length ? ` (${lead.outcomes.join(", ")})` : ""}`),
          h("dt", {}, "Compliance"), h("dd", { id: "preview-verdict" }, verdict.allowed ? "allowed now" : "refused")),
        frame.customer ? customerCard(frame.customer) : candidatesCard(pop),
        historyCard(pop),
        h("ul", { id: "preview-checks", class: "muted" },
          verdict.checks.map((c) => h("li", {}, `${c.check}: ${c.result} — ${c.detail}`))))),
  };
}

function customerCard(c) {
  return h("dl", { id: "pop-customer" },
    h("dt", {}, "Customer"), h("dd", {}, `${c.name} (${c.id})`),
    h("dt", {}, "Tier"), h("dd", {}, c.tier || "–"),
    h("dt", {}, "Phones"), h("dd", {}, (c.phones || []).join(", ") || "–"),
    h("dt", {}, "E-mails"), h("dd", {}, (c.emails || []).join(", ") || "–"),
    h("dt", {}, "Language"), h("dd", {}, c.language || "–"),
    h("dt", {}, "Account mgr"), h("dd", {}, c.account_manager || "–"),
    h("dt", {}, "Segment"), h("dd", {}, c.segment || "–"));
}

function candidatesCard(pop) {
  const list = pop.candidates || [];
  if (!list.length) return h("div", {}, h("strong", {}, pop.label || "Unknown caller"),
    h("div", { class: "muted" }, pop.normalized || "no number or address"));
  return h("div", { id: "pop-candidates" }, h("strong", {}, `${list.length} possible customers`),
    h("ul", {}, list.map((c) => h("li", {}, `${c.name} (${c.id}) · ${c.tier || "no tier"}`))));
}

function inputsCard(contact) {
  const inputs = Object.entries(contact.inputs || {});
  return h("dl", { id: "pop-inputs" }, h("dt", {}, "From"), h("dd", {}, contact.origin || "–"),
    inputs.map(([k, v]) => [h("dt", {}, k), h("dd", {}, typeof v === "object" ? JSON.stringify(v) : v)]));
}

function historyCard(pop) {
  const rows = pop.history || [];
  return h("div", { id: "pop-history" }, h("strong", {}, "Recent history"),
    rows.length ? h("ul", {}, rows.map((i) =>
      h("li", {}, `${i.at.slice(0, 16).replace("T", " ")} · ${i.channel} · ${i.disposition || "–"}`)))
      : h("div", { class: "muted" }, pop.history_status === "ok" ? "none" : pop.history_status));
}

function preview(contact) {
  if (contact.chat) {
    return h("div", { id: "pop-chat" }, h("strong", {}, `Chat with ${contact.chat.customer_name}`),
      contact.chat.messages.slice(-3).map((m) => h("div", { class: "muted" }, `“${m.text}”`)));
  }
  if (contact.email) {
    const body = contact.case?.messages?.at(-1)?.text || "";
    return h("div", { id: "pop-email" }, h("strong", {}, contact.email.subject || "(no subject)"),
      h("div", { class: "muted" }, body.slice(0, 280)));
  }
  return null;
}

export function renderContact(contact, ui) {
  const card = h("article", { class: "panel contact", dataset: { id: contact.id, channel: contact.channel } });
  const status = h("span", { class: "badge status" }, contact.status);
  card.append(h("h3", {}, channelTag(contact.channel), contact.label || contact.origin || contact.id,
    tierBadge(contact.tier), status, h("span", { class: "muted" }, `queue ${contact.queue}`)));
  if (contact.chat) card.append(chatBox(contact, ui));
  if (contact.email) card.append(mailBox(contact, ui));
  if (contact.channel === "voice") card.append(h("p", { class: "muted" }, `Call from ${contact.origin || "unknown"}`));
  card.append(h("div", { class: "wrap hidden" }, "Wrap-up: ", h("span", { class: "wrap-left" }), " ",
    h("button", { class: "secondary extend", type: "button", onclick: () => ui.extend(contact.id) }, "Extend")));
  card.append(controls(contact, ui));
  return card;
}

function chatBox(contact, ui) {
  const log = h("div", { class: "chat-log" });
  for (const m of contact.chat.messages) log.append(bubble(m));
  const input = h("input", { class: "chat-input grow", placeholder: "Type a reply…",
    oninput: () => ui.typing(contact.id),
    onkeydown: (e) => { if (e.key === "Enter") send(); } });
  const send = () => { const text = input.value.trim(); if (text) ui.say(contact.id, text).then(() => (input.value = "")); };
  return h("div", {}, log, h("div", { class: "typing" }),
    h("div", { class: "row" }, input, h("button", { class: "chat-send", type: "button", onclick: send }, "Send"),
      h("button", { class: "secondary end-chat", type: "button", onclick: () => ui.end(contact.id) }, "End chat")));
}

export function bubble(m) {
  return h("div", { class: `msg ${m.sender}`, dataset: { id: m.id } }, h("span", { class: "who" }, m.name), m.text);
}

function mailBox(contact, ui) {
  const thread = h("div", { class: "mail-thread" });
  for (const m of contact.case?.messages || []) thread.append(mailEntry(m));
  const body = h("textarea", { class: "mail-body", placeholder: `Reply to ${contact.email.from}` });
  const send = () => ui.reply(contact.id, body.value).then((entry) => { body.value = ""; thread.append(mailEntry(entry)); });
  return h("div", {}, h("strong", {}, contact.email.subject || "(no subject)"), thread, body,
    h("div", { class: "row" }, h("button", { class: "mail-send", type: "button", onclick: send }, "Send reply")));
}

function mailEntry(m) {
  return h("div", { class: `mail ${m.direction}` },
    h("div", { class: "meta" }, `${m.direction === "inbound" ? "From" : "Reply to"} ${m.direction === "inbound" ? m.from : m.to}`),
    m.text);
}

function controls(contact, ui) {
  const dispo = h("select", { class: "disposition", "aria-label": "Disposition" },
    ui.dispositions.map((d) => h("option", { value: d }, d)));
  const notes = h("input", { class: "notes grow", placeholder: "Notes for the customer's history" });
  const queue = h("select", { class: "transfer-queue", "aria-label": "Transfer to queue" },
    ui.queues.filter((q) => q.channel === contact.channel).map((q) => h("option", { value: q.name }, q.name)));
  return h("div", {},
    h("div", { class: "row" }, dispo, notes,
      h("button", { class: "complete", type: "button", onclick: () => ui.complete(contact.id, dispo.value, notes.value) }, "Complete")),
    h("div", { class: "row" }, h("label", {}, "Transfer"), queue,
      h("button", { class: "secondary transfer", type: "button", onclick: () => ui.transfer(contact.id, queue.value) }, "Transfer")));
}

export function updateWrap(card, wrapUntil) {
  const box = $(".wrap", card);
  if (!wrapUntil) return box.classList.add("hidden");
  box.classList.remove("hidden");
  $(".wrap-left", box).textContent = `${duration(wrapUntil - serverNow())} left`;
}
