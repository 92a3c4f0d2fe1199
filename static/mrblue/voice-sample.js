// The admin's "Play a sample" buttons: speak a sentence in the voice chosen on the form (saved
// or not) at the speed typed there, or in a fixed voice (the preview), and play it.
//
// Each button sits in a [data-role=voice-sample] box that names its endpoint (data-url) and
// either the form fields to read (data-voice-field, data-speed-field) or the values
// (data-voice, data-speed). The box's data-state says what happened: loading, playing, error.
(function () {
  "use strict";
  if (window.mrblueVoiceSamples) return; // included by the form's widget and its template
  window.mrblueVoiceSamples = true;

  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function fieldValue(id, fallback) {
    const field = id && document.getElementById(id);
    return field ? field.value : fallback;
  }

  async function errorMessage(answer) {
    try {
      return (await answer.json()).error.message;
    } catch {
      return `The sample could not be made (HTTP ${answer.status}).`;
    }
  }

  async function play(box) {
    const button = box.querySelector("[data-role=voice-sample-play]");
    const status = box.querySelector("[data-role=voice-sample-status]");
    const audio = box.querySelector("[data-role=voice-sample-audio]");
    const voice = fieldValue(box.dataset.voiceField, box.dataset.voice);
    const speed = Number(fieldValue(box.dataset.speedField, box.dataset.speed)) || 1;
    button.disabled = true;
    box.dataset.state = "loading";
    status.textContent = `Speaking a sample in ${voice}…`;
    try {
      const answer = await fetch(box.dataset.url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ voice, speed }),
      });
      if (!answer.ok) throw new Error(await errorMessage(answer));
      if (!(answer.headers.get("Content-Type") || "").startsWith("audio/")) {
        throw new Error("Your admin session has ended: log in again to hear samples.");
      }
      const blob = await answer.blob();
      if (audio.src) URL.revokeObjectURL(audio.src);
      audio.src = URL.createObjectURL(blob);
      audio.controls = true;
      audio.hidden = false;
      await audio.play();
      box.dataset.state = "playing";
      status.textContent = `${voice}, ${speed === 1 ? "normal speed" : `${speed}×`}`;
      audio.onended = () => { box.dataset.state = "played"; };
    } catch (error) {
      box.dataset.state = "error";
      status.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-role=voice-sample-play]");
    if (!button) return;
    event.preventDefault();
    play(button.closest("[data-role=voice-sample]"));
  });
})();
