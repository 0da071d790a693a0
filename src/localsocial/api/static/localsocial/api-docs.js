// Starts Swagger UI (django-ninja's copy of swagger-ui-bundle.js) on /api/docs, from the
// settings the page carries as JSON: no inline script, so the site's CSP holds.
(function () {
  "use strict";
  var settings = JSON.parse(document.getElementById("swagger-settings").textContent);
  // The page has its own <h1> and introduction: Swagger's title block (a second <h1>, and
  // text in colours that fail contrast) is left out.
  var withoutInfo = function () {
    return { components: { InfoContainer: function () { return null; } } };
  };
  settings.dom_id = "#swagger-ui";
  settings.presets = [window.SwaggerUIBundle.presets.apis];
  settings.plugins = [withoutInfo];
  window.SwaggerUIBundle(settings);

  // Swagger UI draws a few controls that assistive technology cannot name or reach; name
  // them as they appear (axe: select-name, button-name, scrollable-region-focusable,
  // landmark-unique).
  var root = document.getElementById("swagger-ui");
  var mend = function () {
    root.querySelectorAll("tr[data-param-name] select:not([aria-label])").forEach(function (select) {
      var row = select.closest("tr[data-param-name]");
      select.setAttribute("aria-label", row.getAttribute("data-param-name"));
    });
    root.querySelectorAll("pre:not([tabindex])").forEach(function (pre) {
      pre.setAttribute("tabindex", "0");
    });
    root.querySelectorAll("button.close-modal:not([aria-label])").forEach(function (button) {
      button.setAttribute("aria-label", "Close");
    });
    root.querySelectorAll(".copy-to-clipboard > button:not([aria-label])").forEach(function (button) {
      button.setAttribute("aria-label", "Copy to clipboard");
    });
    root.querySelectorAll("table.responses-table[role=region]:not([aria-label])").forEach(function (table) {
      var block = table.closest(".opblock");
      var summary = block && block.querySelector(".opblock-summary-method");
      var path = block && block.querySelector(".opblock-summary-path");
      table.setAttribute("aria-label", "Responses of " + (summary ? summary.textContent : "") + " " +
        (path ? path.getAttribute("data-path") : table.id));
    });
    // Swagger's sections (the OpenAPI 3.1 webhooks among them) can jump heading levels
    // (axe: heading-order): a heading that skips a level is announced one below the one before.
    var previous = 0;
    document.querySelectorAll("h1, h2, h3, h4, h5, h6").forEach(function (heading) {
      var level = parseInt(heading.tagName.substring(1), 10);
      if (root.contains(heading) && previous && level > previous + 1) {
        level = previous + 1;
        heading.setAttribute("aria-level", String(level));
      } else if (root.contains(heading)) {
        heading.removeAttribute("aria-level");
      }
      previous = level;
    });
  };
  new MutationObserver(mend).observe(root, { childList: true, subtree: true });
})();
