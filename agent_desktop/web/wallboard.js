// The supervisor wallboard: queues against their targets, agents by state, explanations.
import { $, duration, h, percent, serverNow, showError, stateBadge, syncClock, wireLogin } from "./common.js";
import { NumberedSocket, socketUrl } from "./protocol.js";

const STATE_ORDER = ["reserved", "busy", "wrap_up", "ready", "not_ready", "offline"];
const DIALER_POLL_MS = 5000; // the dialer's figures between snapshots (REST status)
const agents = new Map();
let socket = null;
let token = null;

const handlers = {
  welcome: (f) => syncClock(f.at),
  snapshot: (f) => {
    syncClock(f.server_time || f.at);
    agents.clear();
    for (const agent of f.agents) agents.set(agent.id, agent);
    renderQueues(f);
    renderAgents();
    renderDialer(f.dialer);
    $("#board").classList.remove("hidden");
  },
  agent_state: (f) => { agents.set(f.agent.id, f.agent); renderAgents(); },
  queue_stats: (f) => renderQueues(f),
  error: (f) => { if (f.ref == null) showError(f); },
};

function renderQueues(stats) {
  const rows = stats.queues.map((q) => h("tr", { dataset: { queue: q.name }, class: q.meets_target ? "meet" : "miss" },
    h("td", {}, q.name), h("td", {}, q.channel),
    h("td", { class: "num waiting" }, q.waiting), h("td", { class: "num ringing" }, q.ringing),
    h("td", { class: "num oldest" }, duration(q.oldest_wait)),
    h("td", { class: "num sl" }, percent(q.service_level)),
    h("td", { class: "num" }, `${percent(q.target)} in ${duration(q.threshold_s)}`),
    h("td", { class: "num asa" }, q.asa == null ? "–" : duration(q.asa)),
    h("td", { class: "num answered" }, q.answered), h("td", { class: "num abandoned" }, q.abandoned),
    h("td", { class: "num" }, percent(q.abandon_rate))));
  $("#queues tbody").replaceChildren(...rows);
  $("#updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
}

// Outbound campaigns: dial level, abandon rate over the rule pack's window against
// its cap (US 3 % per 30 days, 47 CFR 64.1200(a)(7); UK per 24 h, Ofcom), connects
// per agent-hour, and the preview-mode leads agents are reading or dialling. Hidden when the service runs no dialer (snapshot `dialer` null).
function renderDialer(rows) {
  let panel = $("#dialer");
  if (rows == null) { panel?.remove(); return; }
  if (!panel) {
    panel = h("div", { class: "panel", id: "dialer" }, h("h2", {}, "Outbound campaigns"),
      h("table", {}, h("thead", {}, h("tr", {}, ...["Campaign", "Mode", "Running", "Dial level", "Lines",
        "Abandon rate", "Window", "Cap", "Connects / agent-hour", "Previews"].map((t) => h("th", {}, t)))), h("tbody")));
    $("#queues").closest(".panel").after(panel);
  }
  panel.querySelector("tbody").replaceChildren(...rows.map((c) => {
    const a = c.abandon_rate;
    const over = a.rate != null && a.rate > a.cap;
    return h("tr", { dataset: { campaign: c.campaign }, class: over ? "miss" : "meet" },
      h("td", {}, c.campaign), h("td", {}, c.mode), h("td", {}, c.running ? "yes" : "no"),
      h("td", { class: "num dial-level" }, c.dial_level.toFixed(2)),
      h("td", { class: "num lines" }, c.lines_in_flight),
      h("td", { class: "num abandon" }, a.rate == null ? "–" : percent(a.rate)),
      h("td", { class: "num" }, `${a.window} (${a.rule_pack})`),
      h("td", { class: "num" }, percent(a.cap)),
      h("td", { class: "num cpah" }, c.connects_per_agent_hour == null ? "–" : c.connects_per_agent_hour.toFixed(1)),
      h("td", { class: "previews" }, (c.previews || []).map((p) => `${p.agent}: ${p.lead_id} (${p.state})`).join(", ") || "–"));
  }));
}

async function pollDialer() {
  if (!token || !$("#dialer")) return;
  try {
    const r = await fetch("/api/v1/dialer/campaigns", { headers: { Authorization: `Bearer ${token}` } });
    if (r.ok) renderDialer((await r.json()).campaigns);
  } catch { /* the next poll or snapshot catches up */ }
}

function renderAgents() {
  const list = [...agents.values()].sort((a, b) =>
    STATE_ORDER.indexOf(a.state) - STATE_ORDER.indexOf(b.state) || a.name.localeCompare(b.name));
  $("#agents tbody").replaceChildren(...list.map((a) => h("tr", { dataset: { agent: a.id, state: a.state } },
    h("td", {}, a.name, h("div", { class: "muted" }, a.extension ? `${a.id} · ext ${a.extension}` : a.id)),
    h("td", { class: "state" }, stateBadge(a.state, a.reason), a.pending ? h("span", { class: "muted" }, ` → ${a.pending} after contact`) : null),
    h("td", { class: "num since", dataset: { since: a.since } }, duration(serverNow() - a.since)),
    h("td", { class: "num" }, a.contacts),
    h("td", {}, a.state === "offline" ? null : h("div", { class: "row" },
      h("button", { class: "secondary force-nr", type: "button", onclick: () => act("force_not_ready", a.id) }, "Not ready"),
      h("button", { class: "danger force-logout", type: "button", onclick: () => act("force_logout", a.id) }, "Log out"))))));
  const counts = {};
  for (const a of agents.values()) counts[a.state] = (counts[a.state] || 0) + 1;
  $("#counts").replaceChildren(...STATE_ORDER.filter((s) => counts[s]).map((s) =>
    h("span", { class: `badge state-${s}`, dataset: { state: s } }, `${s.replace("_", " ")}: ${counts[s]}`)));
}

function act(type, agentId) {
  socket.send(type, { agent_id: agentId }).then((r) => {
    const agent = agents.get(agentId);
    if (agent && r.agent) agents.set(agentId, { ...agent, state: r.agent.state, reason: r.agent.reason });
    renderAgents();
  }).catch(showError);
}

async function explain() {
  const id = $("#explain-id").value.trim();
  if (!id) return;
  try {
    const { contact } = await socket.send("explain", { contact_id: id });
    const lines = [`${contact.id} · ${contact.channel} · ${contact.status} · queue ${contact.queue} · agent ${contact.agent_id ?? "–"}`];
    for (const d of contact.decisions) {
      lines.push(`\n${d.trigger} → ${d.chosen ?? "nobody"} (${d.strategy}; step ${d.relaxation_step}: ${d.requirement})`);
      if (d.note) lines.push(`  ${d.note}`);
      for (const c of d.candidates) lines.push(`  candidate ${c.id} score ${c.score.map((x) => +x.toFixed(3)).join(", ")} ${c.note}`);
      for (const e of d.eliminated) lines.push(`  left out ${e.agent}: ${e.reason}`);
    }
    if (contact.waiting_reason) lines.push(`\nwaiting now: ${contact.waiting_reason.note}`);
    $("#explanation").textContent = lines.join("\n");
    $("#explanation").classList.remove("hidden");
  } catch (error) {
    showError(error);
  }
}

function connect(session, user) {
  token = session;
  $("#who").textContent = user;
  socket = new NumberedSocket({
    url: socketUrl("/ws/v1/desktop"),
    opening: (resume) => ({
      type: "hello", protocol: 1, token, view: "supervisor",
      ...(resume ? { resume: { session: resume.session, last_seq: resume.lastSeq } } : {}),
    }),
    onFrame: (frame) => handlers[frame.type]?.(frame),
    onStatus: (status) => {
      $("#conn").className = `conn ${status}`;
      $("#conn").textContent = status === "live" ? "live" : "reconnecting";
    },
  });
  socket.connect();
}

$("#explain").addEventListener("click", explain);
wireLogin(connect);
setInterval(pollDialer, DIALER_POLL_MS);
setInterval(() => {
  for (const cell of document.querySelectorAll("td.since")) cell.textContent = duration(serverNow() - Number(cell.dataset.since));
}, 1000);
