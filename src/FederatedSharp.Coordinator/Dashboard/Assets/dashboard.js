// FederatedSharp dashboard: keeps every [data-live] section current. The coordinator signals a change by server-sent
// events; each live section then fetches its fragment again and swaps it in, without reloading the page.
(() => {
  "use strict";
  const sections = () => Array.from(document.querySelectorAll("[data-live]"));
  const status = document.getElementById("live-status");
  let pending = false, running = false;

  async function refresh() {
    if (running) { pending = true; return; }
    running = true;
    try {
      do {
        pending = false;
        for (const section of sections()) {
          const response = await fetch(section.dataset.live, { credentials: "same-origin", headers: { "Accept": "text/html" } });
          if (response.status === 401) { window.location.assign("/login?returnUrl=" + encodeURIComponent(location.pathname + location.search)); return; }
          if (!response.ok) { continue; }
          const html = await response.text();
          if (section.innerHTML !== html) {
            section.innerHTML = html;
            section.dispatchEvent(new CustomEvent("fedsharp:updated", { bubbles: true }));
          }
        }
        document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes || "0") + 1);
      } while (pending);
    } finally {
      running = false;
    }
  }

  function connect() {
    if (sections().length === 0 || !window.EventSource) { return; }
    const source = new EventSource("/dashboard/events");
    source.addEventListener("ready", () => { status?.classList.add("on"); refresh(); });
    source.addEventListener("change", () => refresh());
    source.onerror = () => status?.classList.remove("on");
  }

  document.addEventListener("DOMContentLoaded", connect);
})();
