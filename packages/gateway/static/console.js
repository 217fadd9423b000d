// The EventBus console: follows one project over Server-Sent Events (the
// browser's EventSource), shows its recent events (the history route) and then
// its live ones in a table, filters and pauses them, and publishes test events
// with fetch. No framework, no build step.

const MAX_ROWS = 500;
const MAX_WAITING = 1000;
// How long to wait before asking again when the gateway is not connected to its bus (503).
const NOT_READY_RETRY_MS = 2000;

const root = document.documentElement;
const accessControl = root.dataset.accessControl === "on";
const eventTypes = (root.dataset.eventTypes ?? "").split(",").filter(Boolean);
// How many of a project's retained events to show when following it (at most the gateway's bound).
const RECENT_EVENTS = Math.min(50, Number(root.dataset.historyLimit) || 50);

const $ = (id) => document.getElementById(id);
const ui = {
  status: $("status"),
  followForm: $("follow-form"),
  project: $("project"),
  tokenField: $("token-field"),
  token: $("token"),
  filter: $("filter"),
  pause: $("pause"),
  clear: $("clear"),
  count: $("count"),
  rows: $("events").tBodies[0],
  empty: $("empty"),
  publishForm: $("publish-form"),
  publishType: $("publish-type"),
  actorType: $("actor-type"),
  actorId: $("actor-id"),
  payload: $("payload"),
  publishResult: $("publish-result"),
};

let source;
let projectId;
let paused = false;
let waiting = [];
let missed = 0;
// While the gateway's bus is down: when it went down (an ISO time). After it came back: the gap's length.
let busDownSince;
let lastGapMs;
// Whether the gateway keeps history (its streams say `start`): then missed events are recovered
// after an outage, and a `reload` message says where they could not be.
let resumable;
let retryTimer;
// Live events that arrived while the recent ones were loading: shown after them. Undefined once loaded.
let early;
// Why the recent events could not be shown, for the status line.
let recentNote;
// Why the gateway said events were missing (a `reload` message), for the status line.
let reloadNote;

function setStatus(state, text) {
  ui.status.dataset.state = state;
  ui.status.textContent = text;
}

function option(value, label = value) {
  const element = document.createElement("option");
  element.value = value;
  element.textContent = label;
  return element;
}

function cell(className, text, title) {
  const td = document.createElement("td");
  td.className = className;
  td.textContent = text;
  if (title) td.title = title;
  return td;
}

function timeOf(iso) {
  const date = new Date(iso);
  const pad = (n, width = 2) => String(n).padStart(width, "0");
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

function showRow(event) {
  const row = document.createElement("tr");
  row.className = "fresh";
  row.dataset.id = event.id;
  row.dataset.type = event.type;
  row.hidden = ui.filter.value !== "" && ui.filter.value !== event.type;
  row.append(
    cell("time", timeOf(event.timestamp), event.timestamp),
    cell("type", event.type),
    cell(
      "actor",
      event.actor_id ? `${event.actor_type} ${event.actor_id.slice(0, 8)}` : event.actor_type,
      event.actor_id ?? "",
    ),
  );
  const payload = cell("payload", "");
  const code = document.createElement("code");
  code.textContent = JSON.stringify(event.payload);
  payload.append(code);
  row.append(payload);
  ui.rows.prepend(row);
  while (ui.rows.rows.length > MAX_ROWS) ui.rows.lastElementChild.remove();
  ui.empty.hidden = true;
  updateCount();
}

function updateCount() {
  const shown = ui.rows.rows.length;
  const parts = [`${shown} event${shown === 1 ? "" : "s"}`];
  if (paused) parts.push(`${waiting.length} waiting`);
  if (missed > 0) parts.push(`${missed} not kept while paused`);
  ui.count.textContent = parts.join(" · ");
}

// The status line of an open stream: live or paused, and whether events may have been lost.
function showStreamStatus() {
  if (busDownSince !== undefined) {
    setStatus(
      "warning",
      `Bus disconnected since ${timeOf(busDownSince)}: project ${projectId}; events published until it is back may be lost`,
    );
    return;
  }
  const down = lastGapMs === undefined ? "" : `the bus was down ${(lastGapMs / 1000).toFixed(1)} s`;
  const gap =
    lastGapMs === undefined
      ? ""
      : resumable
        ? ` (${down})`
        : ` (${down}; events published then may have been lost)`;
  const note =
    (recentNote === undefined ? "" : ` (recent events not shown: ${recentNote})`) +
    (reloadNote === undefined
      ? ""
      : ` (some events could not be recovered: ${reloadNote}; showing the latest)`);
  setStatus(
    paused ? "paused" : "live",
    `${paused ? "Paused" : "Live"}: project ${projectId}${gap}${note}`,
  );
}

function receive(message) {
  const event = JSON.parse(message.data);
  if (early !== undefined) early.push(event);
  else show(event);
}

function show(event) {
  if (!paused) {
    showRow(event);
    return;
  }
  waiting.push(event);
  if (waiting.length > MAX_WAITING) {
    waiting.shift();
    missed++;
  }
  updateCount();
}

function authorization() {
  return accessControl && ui.token.value
    ? { authorization: `Bearer ${ui.token.value.trim()}` }
    : {};
}

// Once the stream is open (so nothing published from then on is missed), shows the project's
// recent events, then the live ones that arrived meanwhile, each event once (by its id).
async function showRecent(stream) {
  const url = `/v1/projects/${encodeURIComponent(projectId)}/history?limit=${RECENT_EVENTS}`;
  let recent = [];
  try {
    const response = await fetch(url, { headers: authorization() });
    const body = await response.json();
    if (response.ok) recent = body.events.map((entry) => entry.event);
    else if (body.error.code !== "EVENTBUS_HISTORY_DISABLED") recentNote = body.error.code;
  } catch {
    recentNote = "the gateway cannot be reached";
  }
  if (stream !== source) return;
  const ids = new Set();
  for (const event of recent) {
    ids.add(event.id);
    // Following the same project again: its rows are there already.
    if (!ui.rows.querySelector(`tr[data-id="${CSS.escape(event.id)}"]`)) show(event);
  }
  for (const event of early) if (!ids.has(event.id)) show(event);
  early = undefined;
  if (stream.readyState === EventSource.OPEN) showStreamStatus();
}

function streamUrl() {
  const url = new URL(`/v1/projects/${encodeURIComponent(projectId)}/events`, location.origin);
  if (accessControl && ui.token.value) url.searchParams.set("access_token", ui.token.value.trim());
  return url;
}

// EventSource does not expose why a connection was refused; ask the same URL once to tell the user.
async function explainRefusal(url) {
  const controller = new AbortController();
  try {
    const response = await fetch(url, { signal: controller.signal });
    if (response.ok) return { text: "the stream closed; reconnect with Follow" };
    const body = await response.json();
    return { code: body.error.code, text: `${body.error.code}: ${body.error.message}` };
  } catch {
    return { text: "the gateway cannot be reached" };
  } finally {
    controller.abort();
  }
}

function follow(project = ui.project.value.trim().toLowerCase()) {
  source?.close();
  clearTimeout(retryTimer);
  projectId = project;
  busDownSince = undefined;
  lastGapMs = undefined;
  resumable = false;
  early = [];
  recentNote = undefined;
  reloadNote = undefined;
  const url = streamUrl();
  setStatus("connecting", `Connecting to project ${projectId}…`);
  const stream = new EventSource(url);
  source = stream;
  stream.addEventListener("open", showStreamStatus);
  stream.addEventListener("open", () => showRecent(stream), { once: true });
  for (const type of eventTypes) stream.addEventListener(type, receive);
  // After a network drop the browser resumes the stream itself (Last-Event-ID: the ids are
  // positions). What the gateway cannot recover it says with `reload`: show the latest again.
  stream.addEventListener("start", () => {
    resumable = true;
  });
  stream.addEventListener("reload", (message) => {
    reloadNote = JSON.parse(message.data).reason;
    showStreamStatus();
    if (early !== undefined) return;
    early = [];
    showRecent(stream);
  });
  // The gateway tells open streams when its bus goes down and when it is back.
  stream.addEventListener("disconnected", (message) => {
    busDownSince = JSON.parse(message.data).at;
    showStreamStatus();
  });
  stream.addEventListener("reconnected", (message) => {
    busDownSince = undefined;
    lastGapMs = JSON.parse(message.data).downtime_ms;
    showStreamStatus();
  });
  stream.addEventListener("error", async (event) => {
    if (stream !== source) return;
    if (event instanceof MessageEvent) {
      // The gateway ended the stream with a reason (token expired, fell behind).
      const reason = JSON.parse(event.data);
      stream.close();
      setStatus("error", `Stream ended: ${reason.code}: ${reason.message}`);
      return;
    }
    if (stream.readyState === EventSource.CONNECTING) {
      setStatus("connecting", `Reconnecting to project ${projectId}…`);
      return;
    }
    const reason = await explainRefusal(url);
    if (stream !== source) return;
    if (reason.code === "GATEWAY_NOT_READY") {
      // The gateway is up but its bus is not: it refuses new streams until the bus is back.
      setStatus("warning", `Waiting for the gateway's bus (${reason.text}); trying again…`);
      retryTimer = setTimeout(() => {
        if (stream === source) follow(projectId);
      }, NOT_READY_RETRY_MS);
      return;
    }
    setStatus("error", `Not following: ${reason.text}`);
  });
}

function togglePause() {
  paused = !paused;
  ui.pause.setAttribute("aria-pressed", String(paused));
  ui.pause.textContent = paused ? "Resume" : "Pause";
  if (!paused) {
    for (const event of waiting) showRow(event);
    waiting = [];
    missed = 0;
  }
  if (source && source.readyState === EventSource.OPEN) showStreamStatus();
  updateCount();
}

function applyFilter() {
  for (const row of ui.rows.rows) {
    row.hidden = ui.filter.value !== "" && ui.filter.value !== row.dataset.type;
  }
}

function describeRefusal(body) {
  const issues = (body.error.issues ?? []).map(
    (issue) => `\n• ${issue.path.join(".") || "(body)"}: ${issue.message}`,
  );
  return `Refused: ${body.error.code}: ${body.error.message}${issues.join("")}`;
}

async function publish() {
  const showResult = (state, text) => {
    ui.publishResult.dataset.state = state;
    ui.publishResult.textContent = text;
  };
  const project = ui.project.value.trim().toLowerCase();
  if (!ui.project.checkValidity()) {
    showResult("error", "Enter the project's UUID above first.");
    return;
  }
  let payload;
  try {
    payload = JSON.parse(ui.payload.value || "{}");
  } catch (error) {
    showResult("error", `The payload is not JSON: ${error.message}`);
    return;
  }
  const event = { type: ui.publishType.value, actor_type: ui.actorType.value, payload };
  if (ui.actorId.value.trim()) event.actor_id = ui.actorId.value.trim();
  const headers = { "content-type": "application/json", ...authorization() };
  try {
    const response = await fetch(`/v1/projects/${encodeURIComponent(project)}/events`, {
      method: "POST",
      headers,
      body: JSON.stringify(event),
    });
    const body = await response.json();
    if (response.ok) showResult("ok", `Published ${body.type} ${body.id}`);
    else showResult("error", describeRefusal(body));
  } catch (error) {
    showResult("error", `The gateway cannot be reached: ${error.message}`);
  }
}

ui.tokenField.hidden = !accessControl;
for (const type of eventTypes) {
  ui.filter.append(option(type));
  ui.publishType.append(option(type));
}
ui.followForm.addEventListener("submit", (event) => {
  event.preventDefault();
  follow();
});
ui.publishForm.addEventListener("submit", (event) => {
  event.preventDefault();
  publish();
});
ui.pause.addEventListener("click", togglePause);
ui.filter.addEventListener("change", applyFilter);
ui.clear.addEventListener("click", () => {
  ui.rows.replaceChildren();
  ui.empty.hidden = false;
  updateCount();
});
