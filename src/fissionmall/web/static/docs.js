// Swagger UI over the mall's own OpenAPI document; kept in a file because pages allow no inline script.
window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
