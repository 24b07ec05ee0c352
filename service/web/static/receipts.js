// Voter receipts: each accepted vote's receipt is kept on this device, and after the
// seal "check my votes" asks for each one's sealed record and audit path, and checks
// the path itself (RFC 9162, SHA-256 with 0x00 / 0x01 prefixes) up to the signed root.
import { $, api, contestPath, h, storageGet, storageSet } from "./common.js";

const key = (cid, country) => `silkvote.vote.${cid}.receipts.${country}`;

export function saveReceipt(cid, country, entry, receipt) {
  if (!receipt) return;
  const list = storageGet(localStorage, key(cid, country), []);
  if (!list.some((r) => r.receipt === receipt)) list.push({ receipt, entry });
  storageSet(localStorage, key(cid, country), list);
}

export function savedReceipts(cid, country) {
  return country ? storageGet(localStorage, key(cid, country), []) : [];
}

const fromHex = (hex) => Uint8Array.from(hex.match(/../g) || [], (b) => parseInt(b, 16));
const toHex = (bytes) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");

async function sha256(...parts) {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", all));
}

/** RFC 9162 section 2.1.3.2: does `path` lead from `record`'s leaf to `root`? */
export async function pathHolds(record, index, size, path, root) {
  if (!globalThis.crypto?.subtle) return null; // not a secure context: cannot check here
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = await sha256(new Uint8Array([0]), new TextEncoder().encode(record));
  for (const hex of path) {
    const p = fromHex(hex);
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(new Uint8Array([1]), p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = await sha256(new Uint8Array([1]), r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 && toHex(r) === root;
}

/** [{entry, receipt, state}] and the seal, or {sealed: false} before the seal. */
export async function checkReceipts(cid, country) {
  const results = [];
  let seal = null;
  for (const { receipt, entry } of savedReceipts(cid, country)) {
    const res = await api("GET", contestPath(cid, `/receipts/${receipt}`));
    if (!res.ok && res.error.code === "not_sealed") return { sealed: false, results: [] };
    // "ok": the record's audit path leads to the signed root, checked here; "unproved":
    // the server found it but this page cannot check (no WebCrypto outside a secure
    // context), so it must not say the proof holds; "missing": anything else.
    let state = "missing";
    if (res.ok) {
      seal = res.data.seal;
      const holds = await pathHolds(res.data.record, res.data.leaf_index, res.data.tree_size,
        res.data.proof, seal.root);
      if (res.data.vote.entry === entry && holds !== false) state = holds ? "ok" : "unproved";
    }
    results.push({ entry, receipt, state });
  }
  return { sealed: true, seal, results };
}

/** The view under the entries: shown once this phone holds a receipt. */
export function renderReceiptCheck(cid, country, check, t) {
  $("#check").classList.toggle("hidden", savedReceipts(cid, country).length === 0);
  const list = $("#check-list");
  $("#check-seal").textContent = check?.seal
    ? t("vote.check_seal", { fingerprint: check.seal.fingerprint }) : "";
  if (!check) return list.replaceChildren();
  if (!check.sealed) return list.replaceChildren(h("li", {}, t("vote.check_not_sealed")));
  if (!check.results.length) return list.replaceChildren(h("li", {}, t("vote.check_none")));
  return list.replaceChildren(...check.results.map((r) => h(
    "li", { class: r.state, dataset: { receipt: r.receipt, ok: String(r.state === "ok") } },
    t(`vote.check_${r.state}`, { country: r.entry }),
  )));
}
