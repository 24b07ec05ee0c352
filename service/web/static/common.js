// Shared helpers of the SilkVote pages: DOM building, API calls, the leaderboard
// websocket client, country names and flags. No dependencies, no build step.

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

/** Build an element: h("button", {class: "big", onclick: fn, dataset: {x: 1}}, "text", child). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Random UUID v4; crypto.randomUUID needs a secure context, getRandomValues does not. */
export function uuid() {
  if (window.crypto && typeof crypto.randomUUID === "function" && window.isSecureContext) {
    return crypto.randomUUID();
  }
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The contest id of a page at /PREFIX/{cid}. */
export function contestIdFromPath() {
  const parts = location.pathname.split("/").filter(Boolean);
  return parts.length >= 2 ? decodeURIComponent(parts[1]) : "";
}

export const contestPath = (cid, rest = "") =>
  `/api/v1/contests/${encodeURIComponent(cid)}${rest}`;

/**
 * Call the API. Never throws: resolves to {ok, status, data, error: {code, message}}.
 * A network failure or timeout is status 0 with error code "network".
 */
export async function api(method, path, { body, token, timeoutMs = 10000 } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller.signal,
      cache: "no-store",
    });
  } catch (exc) {
    clearTimeout(timer);
    return { ok: false, status: 0, data: null, error: { code: "network", message: String(exc) } };
  }
  let data = null;
  try {
    const text = await response.text();
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  } finally {
    clearTimeout(timer);
  }
  if (response.ok) return { ok: true, status: response.status, data, error: null };
  const error = (data && data.error) || {
    code: response.status >= 500 ? "unavailable" : "error",
    message: `HTTP ${response.status}`,
  };
  return { ok: false, status: response.status, data, error, retryAfter: response.headers.get("Retry-After") };
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function storageGet(storage, key, fallback = null) {
  try {
    const raw = storage.getItem(key);
    return raw === null ? fallback : JSON.parse(raw);
  } catch {
    return fallback;
  }
}

export function storageSet(storage, key, value) {
  try {
    if (value === null || value === undefined) storage.removeItem(key);
    else storage.setItem(key, JSON.stringify(value));
  } catch {
    /* private mode or full: the page still works for this visit */
  }
}

// ---------------------------------------------------------------- countries

const REST_OF_WORLD = {
  en: "Rest of the World", ru: "Остальной мир", zh: "世界其他地区", kk: "Әлемнің қалған бөлігі",
};
const nameCache = new Map();

/** Localised country name (Intl.DisplayNames), "Rest of the World" for WW. */
export function countryName(code, lang = "en") {
  if (code === "WW") return REST_OF_WORLD[lang] || REST_OF_WORLD.en;
  const key = `${lang}:${code}`;
  if (!nameCache.has(key)) {
    let name = code;
    try {
      name = new Intl.DisplayNames([lang, "en"], { type: "region" }).of(code) || code;
    } catch {
      name = code;
    }
    nameCache.set(key, name);
  }
  return nameCache.get(key);
}

/** Points as the API gives them: integers, or exact fractions as strings ("21/2"). */
export function formatPoints(points) {
  if (points === null || points === undefined) return "0";
  return String(points);
}

/** Numeric value of a points field, for bars and comparisons only (never for places). */
export function pointsValue(points) {
  if (typeof points === "number") return points;
  const text = String(points ?? "0");
  const [num, den] = text.split("/");
  const value = den ? Number(num) / Number(den) : Number(num);
  return Number.isFinite(value) ? value : 0;
}

// ---------------------------------------------------------------- leaderboard websocket

/**
 * Leaderboard websocket client: snapshot, then updates; a gap in `seq` or a lost
 * connection re-subscribes (and so receives a fresh snapshot), with capped backoff.
 *   new LeaderboardSocket(cid, {token, onResults(results, msg), onState(state)})
 * With a token, each connection opens with a fresh single-use ticket (see ticket()).
 * states: "connecting", "live", "reconnecting", "unauthorized".
 */
export class LeaderboardSocket {
  constructor(cid, { token = null, onResults = () => {}, onState = () => {} } = {}) {
    this.cid = cid;
    this.token = token;
    this.onResults = onResults;
    this.onState = onState;
    this.seq = null;
    this.ws = null;
    this.backoff = 500;
    this.stopped = false;
    this.timer = null;
    this.stats = { snapshots: 0, updates: 0, gaps: 0, reconnects: 0 };
  }

  url(ticket = null) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const query = ticket ? `?ticket=${encodeURIComponent(ticket)}` : "";
    return `${scheme}//${location.host}/ws/contests/${encodeURIComponent(this.cid)}/leaderboard${query}`;
  }

  /**
   * A token never goes into the socket's URL: it is traded for a single-use ticket
   * (POST /api/v1/ws-tickets with the bearer header), asked for anew on every
   * (re)connect. Resolves to the ticket, null without a token, or false if refused.
   */
  async ticket() {
    if (!this.token) return null;
    const res = await api("POST", "/api/v1/ws-tickets", { token: this.token });
    if (res.ok && res.data && res.data.ticket) return res.data.ticket;
    return res.status === 401 || res.status === 403 ? false : undefined;
  }

  start() {
    this.stopped = false;
    this.connect();
    return this;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
  }

  async connect() {
    clearTimeout(this.timer);
    this.seq = null;
    this.onState(this.stats.reconnects ? "reconnecting" : "connecting");
    const attempt = (this.attempt = (this.attempt || 0) + 1);
    const ticket = await this.ticket();
    if (this.stopped || attempt !== this.attempt) return; // stopped, or a newer connect
    if (ticket === false) {
      this.onState("unauthorized");
      this.scheduleReconnect(10000);
      return;
    }
    if (ticket === undefined) {
      this.scheduleReconnect();
      return;
    }
    let ws;
    try {
      ws = new WebSocket(this.url(ticket));
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onmessage = (event) => this.handle(ws, event);
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      const refused = event.code === 1008 || event.code === 4001 || event.code === 4401 || event.code === 4403;
      if (refused) this.onState("unauthorized");
      this.scheduleReconnect(refused ? 10000 : undefined);
    };
    ws.onerror = () => {
      /* onclose follows and schedules the reconnect */
    };
  }

  scheduleReconnect(delay) {
    if (this.stopped) return;
    this.stats.reconnects += 1;
    const wait = delay ?? this.backoff + Math.random() * 250;
    this.backoff = Math.min(this.backoff * 2, 8000);
    if (delay === undefined) this.onState("reconnecting");
    this.timer = setTimeout(() => this.connect(), wait);
  }

  resync() {
    // Drop this connection and subscribe again: the server starts with a snapshot.
    this.stats.gaps += 1;
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000);
    this.stats.reconnects += 1;
    this.connect();
  }

  handle(ws, event) {
    if (this.ws !== ws) return;
    let msg;
    try {
      msg = JSON.parse(event.data);
    } catch {
      return;
    }
    if (!msg || typeof msg !== "object") return;
    if (msg.type === "snapshot") {
      this.seq = msg.seq;
      this.backoff = 500;
      this.stats.snapshots += 1;
      this.onState("live");
      if (msg.results) this.onResults(msg.results, msg);
    } else if (msg.type === "update") {
      if (this.seq === null) return; // no snapshot yet on this connection
      if (typeof msg.seq === "number" && msg.seq <= this.seq) return; // old or repeated
      if (msg.seq !== this.seq + 1) {
        this.resync();
        return;
      }
      this.seq = msg.seq;
      this.stats.updates += 1;
      if (msg.results) this.onResults(msg.results, msg);
    } else if (msg.type === "error" && msg.error && msg.error.code === "unauthorized") {
      this.onState("unauthorized");
    }
  }
}
