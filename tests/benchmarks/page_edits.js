// The page-edit benchmark's probe, added to the editor page before its own scripts (with
// tests/support/heard.js): it times, with performance.now(), what the voice panel does without
// changing it. `window.probe` collects the data channel's events both ways (`received`,
// `sent`: each event with `_t`), the page tools' requests to the server (`fetches`: call_id,
// start, end) and each redraw of the canvas that changed blocks (`changes`: `_t` and the ids
// of the blocks that changed, appeared or went), and those requests' resource timings
// (`resources`: start, request sent, response's first byte, end). The remote voice goes to
// measure(), which fills window.heard.
window.probe = { received: [], sent: [], fetches: [], changes: [], resources: [] };

const stamped = (text) => ({ ...JSON.parse(text), _t: performance.now() });

window.RTCPeerConnection = class extends window.RTCPeerConnection {
  constructor(...args) {
    super(...args);
    this.addEventListener("track", (event) => {
      measure(event.streams[0] || new MediaStream([event.track]));
    });
  }

  createDataChannel(...args) {
    const channel = super.createDataChannel(...args);
    // Registered before the panel sets `onmessage`: stamped just before the panel sees it.
    channel.addEventListener("message", (message) => {
      window.probe.received.push(stamped(message.data));
    });
    const send = channel.send.bind(channel);
    channel.send = (text) => {
      window.probe.sent.push(stamped(text));
      send(text);
    };
    return channel;
  }
};

const fetchNative = window.fetch.bind(window);
window.fetch = async (url, options = {}) => {
  const start = performance.now();
  const answer = await fetchNative(url, options);
  if (String(url).endsWith("/tools/")) {
    let callId = null;
    try {
      callId = JSON.parse(options.body).call_id ?? null;
    } catch {
      // not JSON: not a page tool's request
    }
    window.probe.fetches.push({ call_id: callId, start, end: performance.now() });
  }
  return answer;
};

new PerformanceObserver((entries) => {
  for (const entry of entries.getEntries()) {
    if (!entry.name.endsWith("/tools/")) continue;
    window.probe.resources.push({ start: entry.startTime, request: entry.requestStart,
                                  response: entry.responseStart, end: entry.responseEnd });
  }
}).observe({ type: "resource", buffered: true });

function blockStates(canvas) {
  const states = new Map();
  for (const block of canvas.querySelectorAll(".block")) {
    const copy = block.cloneNode(true);
    copy.classList.remove("is-selected"); // selecting a block does not change the page
    states.set(block.dataset.blockId, copy.outerHTML);
  }
  return states;
}

document.addEventListener("DOMContentLoaded", () => {
  const canvas = document.querySelector("[data-role='canvas']");
  if (!canvas) return;
  let before = blockStates(canvas);
  new MutationObserver(() => {
    const _t = performance.now();
    const now = blockStates(canvas);
    const ids = new Set([...before.keys(), ...now.keys()]);
    const changed = [...ids].filter((id) => before.get(id) !== now.get(id));
    before = now;
    if (changed.length) window.probe.changes.push({ _t, changed });
  }).observe(canvas, { childList: true, subtree: true, attributes: true, characterData: true });
});
