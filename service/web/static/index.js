// Index page: every contest with links to its pages.
import { $, api, h } from "./common.js";

async function main() {
  const list = $("#contests");
  const res = await api("GET", "/api/v1/contests");
  if (!res.ok) {
    list.replaceChildren(h("li", { class: "muted" }, `Could not list contests: ${res.error.message}`));
    return;
  }
  const contests = Array.isArray(res.data) ? res.data : res.data?.contests || [];
  if (!contests.length) {
    list.replaceChildren(h("li", { class: "muted" }, "No contests yet."));
    return;
  }
  list.replaceChildren(...contests.map((c) => {
    const id = encodeURIComponent(c.id);
    return h("li", { class: "contest", dataset: { contest: c.id } },
      h("div", { class: "head" },
        h("span", { class: "name" }, c.name || c.id),
        h("span", { class: `pill ${c.window === "open" ? "open" : "closed"}` }, c.window === "open" ? "voting open" : "voting closed"),
        h("code", { class: "id muted" }, c.id)),
      h("div", { class: "links" },
        h("a", { class: "btn primary", href: `/vote/${id}` }, "Vote"),
        h("a", { class: "btn", href: `/overlay/${id}` }, "Overlay"),
        h("a", { class: "btn", href: `/overlay/${id}?bg=transparent` }, "Overlay (transparent)"),
        h("a", { class: "btn", href: `/console/${id}` }, "Producer console"),
        h("a", { class: "btn", href: `/api/v1/contests/${id}/results` }, "Results JSON")));
  }));
}

main();
