// Personal-data warnings while the author types (progressive enhancement).
//
// Without this file the form still works: the "Check for personal details" button asks the
// server, and the server checks again when the story is sent.  With it, the same server check
// runs a moment after the author stops typing, and each field's warnings are redrawn under it.
// The number of findings is announced in a polite live region; focus never moves.

const DELAY_MS = 700;
const FIELDS = ["title", "body", "feelings"];

function warningList(entry) {
  // Build the list from plain strings: the author's text never becomes HTML.
  const box = document.createElement("div");
  box.className = "govuk-inset-text";
  const heading = document.createElement("p");
  heading.className = "govuk-body govuk-!-font-weight-bold";
  heading.textContent = entry.heading;
  box.appendChild(heading);
  const list = document.createElement("ul");
  list.className = "govuk-list govuk-list--spaced";
  for (const finding of entry.findings) {
    const item = document.createElement("li");
    const excerpt = document.createElement("p");
    excerpt.className = "govuk-body govuk-!-margin-bottom-1";
    const mark = document.createElement("mark");
    mark.textContent = finding.text;
    excerpt.append("“" + finding.before, mark, finding.after + "”");
    const reason = document.createElement("p");
    reason.className = "govuk-hint govuk-!-margin-bottom-0";
    reason.textContent = finding.reason;
    item.append(excerpt, reason);
    list.appendChild(item);
  }
  box.appendChild(list);
  return box;
}

function enhance(form) {
  const url = form.dataset.checkUrl;
  const token = form.querySelector("input[name=csrfmiddlewaretoken]");
  const status = form.querySelector("#pd-status");
  if (!url || !token) return;
  let timer = null;
  let lastSent = "";
  let lastCount = null;
  let controller = null;

  async function check() {
    const params = new URLSearchParams();
    params.append("csrfmiddlewaretoken", token.value);
    for (const name of FIELDS) {
      const input = form.elements.namedItem(name);
      if (input) params.append(name, input.value);
    }
    const body = params.toString();
    if (body === lastSent) return;
    lastSent = body;
    if (controller) controller.abort();
    controller = new AbortController();
    let data;
    try {
      const response = await fetch(url, {
        method: "POST",
        body,
        headers: { "Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": token.value },
        credentials: "same-origin",
        signal: controller.signal,
      });
      if (!response.ok) return; // rate-limited or too long: the check at submit still runs
      data = await response.json();
    } catch (error) {
      return; // offline or aborted: nothing to redraw
    }
    for (const name of FIELDS) {
      const target = document.getElementById("pd-" + name);
      const entry = data.fields && data.fields[name];
      if (!target || !entry) continue;
      target.replaceChildren();
      if (entry.findings.length) target.appendChild(warningList(entry));
    }
    if (status && data.count !== lastCount) {
      status.textContent = data.summary;
      lastCount = data.count;
    }
  }

  function schedule() {
    if (timer) window.clearTimeout(timer);
    timer = window.setTimeout(check, DELAY_MS);
  }

  for (const name of FIELDS) {
    const input = form.elements.namedItem(name);
    if (input) input.addEventListener("input", schedule);
  }
}

document.querySelectorAll("form[data-ls-tell]").forEach(enhance);
