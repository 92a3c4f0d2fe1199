// Connections to a realtime provider, the same for OpenAI and the built-in engine: WebRTC
// (microphone up, voice down, events on the "oai-events" data channel) or, for text only, a
// WebSocket. Each gives `send(event)` and `close()` and reports server events to `onEvent`.

export class TransportError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

const MIC_CONSTRAINTS = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
const GATHER_TIMEOUT_MS = 2000;

/** Ask for the microphone; explain a refusal in words. */
export async function openMicrophone() {
  try {
    return await navigator.mediaDevices.getUserMedia({ audio: MIC_CONSTRAINTS });
  } catch (error) {
    if (error.name === "NotAllowedError" || error.name === "SecurityError") {
      throw new TransportError("microphone_denied",
        "Mr. Blue can't hear you: microphone access was blocked. Allow the microphone for " +
        "this site in your browser's address bar, then start again — or use text only.");
    }
    throw new TransportError("microphone_missing",
      "No microphone was found. Plug one in, or switch to text only.");
  }
}

function iceGathered(pc) {
  // Servers without trickle ICE (the built-in engine) need our candidates in the offer.
  return new Promise((resolve) => {
    if (pc.iceGatheringState === "complete") return resolve();
    const done = () => pc.iceGatheringState === "complete" && resolve();
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, GATHER_TIMEOUT_MS);
  });
}

/** Connect over WebRTC with a client secret; resolves once the answer is applied. */
export async function connectWebRTC({ secret, callsUrl, microphone, audioElement, onEvent,
                                      onStateChange }) {
  const pc = new RTCPeerConnection();
  const pending = [];
  let channel = null;
  const close = () => {
    if (channel) channel.close();
    pc.getSenders().forEach((sender) => sender.track && sender.track.stop());
    pc.close();
  };
  try {
    microphone.getTracks().forEach((track) => pc.addTrack(track, microphone));
    pc.ontrack = (event) => {
      audioElement.srcObject = event.streams[0] || new MediaStream([event.track]);
    };
    pc.onconnectionstatechange = () => onStateChange(pc.connectionState);
    channel = pc.createDataChannel("oai-events");
    channel.onopen = () => pending.splice(0).forEach((event) => channel.send(event));
    channel.onmessage = (message) => onEvent(JSON.parse(message.data));
    channel.onclose = () => onStateChange("closed");
    await pc.setLocalDescription(await pc.createOffer());
    await iceGathered(pc);
    const answer = await fetch(callsUrl, {
      method: "POST",
      body: pc.localDescription.sdp,
      headers: { Authorization: `Bearer ${secret}`, "Content-Type": "application/sdp" },
    });
    if (answer.status !== 201) throw await refusal(answer);
    const location = answer.headers.get("Location") || "";
    await pc.setRemoteDescription({ type: "answer", sdp: await answer.text() });
    return {
      kind: "webrtc",
      pc,
      callId: location.split("/").pop(),
      send(event) {
        const text = JSON.stringify(event);
        if (channel.readyState === "open") channel.send(text);
        else pending.push(text);
      },
      close,
    };
  } catch (error) {
    close();
    throw error;
  }
}

/** The WebSocket URL next to a `.../realtime/calls` URL. */
export function websocketUrl(callsUrl, model) {
  const url = new URL(callsUrl, window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.pathname = url.pathname.replace(/\/calls\/?$/, "");
  url.search = model ? `?model=${encodeURIComponent(model)}` : "";
  return url.toString();
}

/** Connect over WebSocket (text only), authenticating with the browser subprotocol. */
export function connectWebSocket({ secret, url, onEvent, onStateChange }) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, ["realtime", `openai-insecure-api-key.${secret}`]);
    let opened = false;
    socket.onopen = () => {
      opened = true;
      onStateChange("connected");
      resolve({
        kind: "websocket",
        send: (event) => socket.send(JSON.stringify(event)),
        close: () => socket.close(),
      });
    };
    socket.onmessage = (message) => onEvent(JSON.parse(message.data));
    socket.onerror = () => {
      if (!opened) reject(new TransportError("connection_failed",
        "Couldn't reach Mr. Blue. Check your connection and try again."));
    };
    socket.onclose = () => opened && onStateChange("closed");
  });
}

async function refusal(answer) {
  let code = "connection_failed";
  try {
    code = (await answer.json()).error?.code || code;
  } catch {
    // not JSON: keep the generic code
  }
  if (answer.status === 401) {
    return new TransportError("secret_expired", "The connection key expired before use.");
  }
  if (answer.status === 429) {
    return new TransportError(code,
      "Mr. Blue is talking to too many people right now. Try again in a minute.");
  }
  return new TransportError(code, "Mr. Blue couldn't take the call. Try again in a moment.");
}
