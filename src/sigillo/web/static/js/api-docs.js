/* The API docs page (/api/docs): Swagger UI, vendored in static/vendor/, on this server's
   OpenAPI document (the URL is the page's data-spec-url). Served same-origin: the CSP
   allows no inline code. The online spec validator is off: nothing leaves the server. */
(function () {
  "use strict";

  window.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("swagger-ui");
    window.ui = window.SwaggerUIBundle({
      url: root.getAttribute("data-spec-url"),
      dom_id: "#swagger-ui",
      deepLinking: true,
      validatorUrl: null,
    });
  });
})();
