// Starts ReDoc on the OpenAPI document the page names (data-spec-url). A file of its
// own, not an inline script: the page's Content-Security-Policy runs scripts from this
// origin only, and the bundle is vendored (static/vendor/), so it works offline.
const root = document.getElementById("redoc");
Redoc.init(root.dataset.specUrl, {}, root);
