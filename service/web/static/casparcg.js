// CasparCG HTML template calls. CasparCG's HTML producer drives a template through global
// functions: play() (CG PLAY), stop() (CG STOP), next() (CG NEXT) and update(data)
// (CG UPDATE / CG ADD with data), where data is the string the client sent: JSON, or the
// classic templateData XML
//   <templateData><componentData id="f0"><data id="text" value="Grand Final"/></componentData></templateData>
// installTemplate() defines the four functions, parses the data into a plain object
// ({f0: "Grand Final"} for the XML, the object itself for JSON) and calls the page's
// handlers. Outside CasparCG (OBS, vMix, a browser) nothing calls them and the page just runs.

/** templateData XML or a JSON string (or an object) → a flat object. */
export function parseTemplateData(raw) {
  if (raw === undefined || raw === null || raw === "") return {};
  if (typeof raw === "object") return raw;
  const text = String(raw).trim();
  if (text.startsWith("{") || text.startsWith("[")) {
    try {
      const parsed = JSON.parse(text);
      return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? parsed : { data: parsed };
    } catch {
      return {};
    }
  }
  if (text.startsWith("<")) {
    const doc = new DOMParser().parseFromString(text, "application/xml");
    if (doc.querySelector("parsererror")) return {};
    const out = {};
    for (const component of doc.querySelectorAll("componentData")) {
      const id = component.getAttribute("id");
      const data = component.querySelector("data");
      if (id && data) out[id] = data.getAttribute("value") ?? "";
    }
    return out;
  }
  return {};
}

/**
 * installTemplate({play, stop, next, update, root, startHidden}): the global template
 * functions. play/stop fade `root` (default: document.body) in and out; the page's own
 * handlers run after. `startHidden`: wait for play() (as a CasparCG layer does).
 */
export function installTemplate({ play, stop, next, update, root, startHidden = false } = {}) {
  const target = root || document.body;
  const calls = [];
  target.style.transition = "opacity 400ms ease";
  const show = (on) => {
    target.style.opacity = on ? "1" : "0";
    target.dataset.cg = on ? "playing" : "stopped";
  };
  show(!startHidden);
  const record = (name, detail) => {
    calls.push({ name, detail, at: Date.now() });
    if (calls.length > 100) calls.shift();
  };
  window.play = () => {
    record("play");
    show(true);
    if (play) play();
  };
  window.stop = () => {
    record("stop");
    show(false);
    if (stop) stop();
  };
  window.next = () => {
    record("next");
    if (next) next();
  };
  window.update = (raw) => {
    const data = parseTemplateData(raw);
    record("update", data);
    if (update) update(data);
  };
  window.__casparcg = { calls };
  return window.__casparcg;
}
