// When the remote voice is heard, for the browser tests and benchmarks: added to a page
// before its own scripts (Playwright's add_init_script); measure(stream) starts listening.
window.maxLevel = 0; // the loudest sample played so far (tests may reset it)
window.heard = []; // performance.now() of each sound after at least 200 ms of quiet

// A global on purpose (Playwright runs an init script inside a function of its own).
window.measure = (stream) => {
  const ctx = new AudioContext();
  const analyser = ctx.createAnalyser();
  ctx.createMediaStreamSource(stream).connect(analyser);
  const buffer = new Float32Array(analyser.fftSize);
  let quietSince = performance.now();
  let afterQuiet = true; // the sound now starting follows 200 ms of quiet
  // Every 5 ms the newest fftSize samples (43 ms): the windows overlap, so no sound is
  // missed, and a sound's start is timed within about 5 ms.
  setInterval(() => {
    analyser.getFloatTimeDomainData(buffer);
    let level = 0;
    for (const v of buffer) level = Math.max(level, Math.abs(v));
    window.maxLevel = Math.max(window.maxLevel, level);
    const now = performance.now();
    if (level < 0.02) {
      quietSince ??= now;
      return;
    }
    if (quietSince !== null) afterQuiet = now - quietSince >= 200;
    quietSince = null;
    if (level > 0.05 && afterQuiet) {
      window.heard.push(now);
      afterQuiet = false;
    }
  }, 5);
};
