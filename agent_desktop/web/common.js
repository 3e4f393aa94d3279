// Small helpers shared by the pages: DOM building, login, toasts, time formats.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export const $ = (selector, root = document) => root.querySelector(selector);

export function toast(message) {
  const box = $("#toasts") || document.body.appendChild(h("div", { id: "toasts" }));
  const item = h("div", { class: "toast", role: "alert" }, message);
  box.append(item);
  setTimeout(() => item.remove(), 6000);
}

export function showError(error) {
  toast(error?.message ? `${error.code ? error.code + ": " : ""}${error.message}` : String(error));
}

// POST /api/v1/auth/login; the token lives in this tab only (sessionStorage).
export async function login(user, password) {
  const response = await fetch("/api/v1/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ user, password }),
  });
  const body = await response.json();
  if (!response.ok) throw body.error || { message: `login failed (${response.status})` };
  sessionStorage.setItem("ringway.token", body.token);
  sessionStorage.setItem("ringway.user", body.user);
  return body;
}

export function wireLogin(onToken) {
  const form = $("#login");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const body = await login($("#user").value.trim(), $("#password").value);
      form.classList.add("hidden");
      onToken(body.token, body.user);
    } catch (error) {
      showError(error);
    }
  });
}

// Server clock minus ours, so countdowns and time-in-state survive a skewed PC clock.
let skew = 0;
export function syncClock(serverSeconds) {
  if (serverSeconds) skew = serverSeconds * 1000 - Date.now();
}
export const serverNow = () => (Date.now() + skew) / 1000;

export function duration(seconds) {
  if (seconds == null || Number.isNaN(seconds)) return "–";
  const s = Math.max(0, Math.round(seconds));
  const hours = Math.floor(s / 3600), minutes = Math.floor((s % 3600) / 60), rest = s % 60;
  const mm = String(minutes).padStart(2, "0"), ss = String(rest).padStart(2, "0");
  return hours ? `${hours}:${mm}:${ss}` : `${minutes}:${ss}`;
}

export const percent = (ratio) => (ratio == null ? "–" : `${Math.round(ratio * 100)}%`);

export function stateBadge(state, reason) {
  const text = reason && state === "not_ready" ? `not ready · ${reason}` : state.replace("_", " ");
  return h("span", { class: `badge state-${state}` }, text);
}

export function tierBadge(tier) {
  return tier ? h("span", { class: `badge tier-${tier}` }, tier) : null;
}
