// Our server's API for the voice panel: mint a client secret for the page, rebuild the
// instructions for a new selection. Errors come back as {code, message} in plain words.
// (The admin's console mints from its own endpoints, through `post` too.)

export class ApiError extends Error {
  constructor(code, message, retryAfter) {
    super(message);
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

const WORDS = {
  not_authenticated: "Your login has expired. Reload the page and log in again.",
  forbidden: "You don't have permission to use Mr. Blue on this page.",
  rate_limited: "You've started a lot of chats in a short time. Wait a minute and try again.",
  provider_rate_limited: "Mr. Blue is very busy right now. Try again in a few seconds.",
  provider_auth: "Mr. Blue isn't set up correctly (the provider refused our key). Tell an admin.",
  provider_timeout: "Mr. Blue's voice service didn't answer in time. Try again.",
  engine_busy: (seconds) =>
    `Mr. Blue is busy with other calls right now. Try again in ${seconds || "a few"} seconds.`,
};

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

/** POST `body` as JSON to our API; resolves to the JSON answer, or throws an ApiError whose
 * message is in plain words (`wordsFor` by error code, else the server's message). */
export async function post(url, body, wordsFor = WORDS) {
  let answer;
  try {
    answer = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    });
  } catch {
    throw new ApiError("network", "Couldn't reach the server. Check your connection.");
  }
  let data = {};
  try {
    data = await answer.json();
  } catch {
    // an HTML error page: fall through with no details
  }
  if (!answer.ok) {
    const error = data.error || {};
    const retryAfter = Number(answer.headers.get("Retry-After")) || undefined;
    const known = wordsFor[error.code];
    const words = (typeof known === "function" ? known(retryAfter) : known) || error.message
      || "Starting the chat failed. Try again.";
    throw new ApiError(error.code || `http_${answer.status}`, words, retryAfter);
  }
  return data;
}

/** A client secret and where to connect, for this page and selection; `conversation` (after a
 * reconnect) is the conversation the new session continues. */
export function mintSession(page, selected, conversation = null) {
  return post("/api/realtime/session", { page, selected: selected || undefined,
                                         conversation: conversation ?? undefined });
}

/** Mr. Blue's instructions rebuilt for a new selection (they stay admin-managed). */
export async function instructionsFor(page, selected) {
  return (await post("/api/realtime/instructions", { page, selected })).instructions;
}
