// Starts Swagger UI on /api/v1/docs. A file of its own, not an inline script, so that the
// page works under a Content-Security-Policy without 'unsafe-inline' scripts.
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    // the bearer token stays across reloads (in this browser's localStorage)
    persistAuthorization: true,
    displayRequestDuration: true,
    tryItOutEnabled: false,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
