// The desktop protocol's client side (docs/desktop-protocol.md): numbered frames,
// resume after a reconnect, heartbeats, commands answered by reply/error frames.
//
// Numbered frames must arrive as lastSeq + 1: older ones are repeats (dropped),
// a jump is a gap (reconnect and resume). Control frames (welcome, heartbeat,
// pong, typing) carry the last numbered seq, so a heartbeat also reveals a gap.

const CONTROL = new Set(["welcome", "heartbeat", "pong", "typing"]);

export class NumberedSocket {
  // opening(resume) -> the first frame (hello / start / resume); resume is
  // {session, lastSeq} on a reconnect, null the first time.
  constructor({ url, opening, onFrame, onStatus = () => {} }) {
    Object.assign(this, { url, opening, onFrame, onStatus });
    this.lastSeq = 0;
    this.session = null;
    this.replayTo = 0;
    this.nextId = 1;
    this.pending = new Map(); // id -> {frame, resolve, reject, sent}
    this.closedByUs = false;
    this.backoff = 500;
  }

  connect() {
    this.closedByUs = false;
    const ws = (this.ws = new WebSocket(this.url));
    ws.onopen = () => {
      this.backoff = 500;
      const resume = this.session ? { session: this.session, lastSeq: this.lastSeq } : null;
      ws.send(JSON.stringify(this.opening(resume)));
    };
    ws.onmessage = (event) => this.receive(JSON.parse(event.data));
    ws.onclose = (event) => this.closed(event);
  }

  receive(frame) {
    this.lastFrameAt = Date.now();
    if (frame.type === "welcome") return this.welcomed(frame);
    if (CONTROL.has(frame.type)) {
      if (frame.seq > this.lastSeq) return this.gap();
      return this.onFrame(frame);
    }
    if (frame.seq === 0) return this.onFrame(frame); // a handshake error, before any session
    if (frame.seq <= this.lastSeq) return; // a repeat: already applied
    if (frame.seq !== this.lastSeq + 1) return this.gap();
    this.lastSeq = frame.seq;
    this.settle(frame);
    this.onFrame(frame);
    if (this.replayTo && this.lastSeq >= this.replayTo) this.resendPending();
  }

  welcomed(frame) {
    const resumed = frame.resumed && frame.session === this.session;
    this.session = frame.session ?? this.session;
    if (!resumed) {
      // A new session: commands sent on the old one may or may not have run. Say so.
      this.lastSeq = frame.seq;
      for (const [id, p] of this.pending) {
        if (!p.sent) continue;
        this.pending.delete(id);
        p.reject({ code: "reset", message: "connection reset before the answer; check and retry" });
      }
    }
    this.replayTo = resumed ? frame.replay_to : 0;
    this.startHeartbeat(frame.heartbeat_s || 10);
    this.onStatus("live", frame);
    this.onFrame(frame);
    if (!this.replayTo || this.lastSeq >= this.replayTo) this.resendPending();
  }

  settle(frame) {
    if ((frame.type !== "reply" && frame.type !== "error") || frame.ref == null) return;
    const waiting = this.pending.get(frame.ref);
    if (!waiting) return;
    this.pending.delete(frame.ref);
    if (frame.type === "reply") waiting.resolve(frame.result);
    else waiting.reject(frame);
  }

  // A command: resolves with the reply's result, rejects with the error frame.
  send(type, fields = {}) {
    const id = this.nextId++;
    const frame = { type, id, ...fields };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { frame, resolve, reject, sent: false });
      this.flush(id);
    });
  }

  // Fire and forget (typing): not numbered, never resent.
  notify(type, fields = {}) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type, ...fields }));
  }

  flush(id) {
    const p = this.pending.get(id);
    if (p && this.ws?.readyState === WebSocket.OPEN && this.session) {
      this.ws.send(JSON.stringify(p.frame));
      p.sent = true;
    }
  }

  resendPending() {
    this.replayTo = 0;
    for (const id of this.pending.keys()) this.flush(id); // answers never seen: send again
  }

  startHeartbeat(seconds) {
    clearInterval(this.beat);
    this.lastFrameAt = Date.now();
    this.beat = setInterval(() => {
      if (Date.now() - this.lastFrameAt > seconds * 2500) return this.gap(); // server silent
      this.notify("ping");
    }, seconds * 1000);
  }

  gap() {
    try { this.ws.close(4000, "resume"); } catch { /* already closing */ }
  }

  closed(event) {
    clearInterval(this.beat);
    for (const [, p] of this.pending) p.sent = false;
    this.onStatus("down", event);
    if (this.closedByUs || [4400, 4401, 4403].includes(event.code)) return;
    setTimeout(() => this.connect(), this.backoff);
    this.backoff = Math.min(this.backoff * 2, 5000);
  }

  close() {
    this.closedByUs = true;
    clearInterval(this.beat);
    this.ws?.close(1000, "bye");
  }
}

export function socketUrl(path) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}${path}`;
}
