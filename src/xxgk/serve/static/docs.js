// The API documentation from the vendored Swagger UI (no CDN), started from a file so a strict CSP allows it.
window.addEventListener("DOMContentLoaded", () => {
  const el = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({ url: el.dataset.spec, dom_id: "#swagger-ui", deepLinking: true });
});
