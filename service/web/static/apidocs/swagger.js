// Starts Swagger UI on the OpenAPI document the page names (data-spec-url). A file of
// its own, not an inline script: the page's Content-Security-Policy runs scripts from
// this origin only, and the assets are vendored (static/vendor/), so it works offline.
const root = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({
  url: root.dataset.specUrl,
  dom_id: "#swagger-ui",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  validatorUrl: null, // the default badge asks a validator on the internet
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
});
