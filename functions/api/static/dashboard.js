// skylane's dashboard: polls the API every 2 s (SSE does not survive API Gateway's buffering).
// Every URL is relative to <base>, so the page works behind an API Gateway stage prefix.
// Data is only ever written with textContent: job inputs and errors are never HTML.
"use strict";

const POLL_MS = 2000;
const FINAL = new Set(["SUCCESS", "FAILURE", "REVOKED"]);
const DLQ_SUFFIX = "_dlq";
// The detail searches CloudWatch Logs (FilterLogEvents, a low account-wide rate quota) at most
// this often; the polls between ask for the record only (?logs=false).
const LOGS_EVERY_MS = 10000;
// The API searches up to 2 min past a job's end (functions/api/job_logs.py AFTER_MARGIN); a search
// after that finds nothing new, so the page stops searching.
const LOGS_SETTLED_MS = 150000;
// GET /schedules reads every schedule from EventBridge: listed this often, and after an action.
const SCHEDULES_EVERY_MS = 10000;

// logsAt: when the open detail's lines were last searched; logsSettled: they cannot change.
const view = {
  cursor: null, detailId: null, timer: null, logsAt: 0, logsSettled: false, schedulesAt: 0,
};
// ApiAuth=JWT: the bearer token is kept in this variable only, never in a URL, storage or a
// cookie, so a reload asks for it again. refused: the API answered 401 to the last one.
const auth = { token: null, refused: false };
const $ = (id) => document.getElementById(id);

// The API (API Gateway's JWT authorizer) answered 401: no token, or not this one.
class TokenNeeded extends Error {}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

async function api(path, options = {}) {
  const sent = auth.token;
  const headers = new Headers(options.headers);
  if (sent) headers.set("Authorization", `Bearer ${sent}`);
  const response = await fetch(path, { credentials: "same-origin", ...options, headers });
  const body = await response.json().catch(() => ({}));
  if (response.status === 401) {
    // Unless a new token was entered meanwhile: ask for one, saying whether this was refused.
    if (auth.token === sent) {
      auth.refused = sent !== null;
      auth.token = null;
      askForToken();
    }
    throw new TokenNeeded("the API asks for a bearer token");
  }
  if (!response.ok) {
    const detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    throw new Error(`${response.status}: ${detail || response.statusText}`);
  }
  return body;
}

function age(iso) {
  if (!iso) return "";
  return span((Date.now() - Date.parse(iso)) / 1000);
}

function span(seconds) {
  if (seconds === null || seconds === undefined) return "";
  const s = Math.max(0, seconds);
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86400)} d`;
}

// ------------------------------------------------------------------ queues
function renderQueues(stats) {
  // GET /queues lists every queue and "<queue>_dlq"; each queue becomes one row with its DLQ.
  const rows = Object.values(stats).filter(
    (q) => !q.name.endsWith(DLQ_SUFFIX) || !stats[q.name.slice(0, -DLQ_SUFFIX.length)]
  );
  const body = $("queues").tBodies[0];
  body.replaceChildren(
    ...rows.map((q) => {
      const dlq = stats[q.name + DLQ_SUFFIX];
      const tr = el("tr");
      tr.dataset.queue = q.name;
      tr.append(el("td", q.name), el("td", q.count, "num waiting"), el("td", q.in_flight, "num in-flight"));
      tr.append(el("td", q.delayed, "num delayed"), el("td", dlq ? dlq.count : "–", "num dead-letter"));
      const action = el("td");
      if (dlq && dlq.count > 0) {
        const button = el("button", "retry dead letters", "redrive");
        button.type = "button";
        button.addEventListener("click", () => redrive(q.name, button));
        action.append(button);
      }
      tr.append(action);
      return tr;
    })
  );
}

async function redrive(queue, button) {
  if (!window.confirm(`Send the dead letters of ${queue} back to the queue?`)) return;
  button.disabled = true;
  try {
    const result = await api(`queues/${encodeURIComponent(queue)}/redrive`, { method: "POST" });
    report(null, `${result.moved} message(s) sent back to ${queue}`);
  } catch (error) {
    report(error);
  }
  refresh();
}

// ------------------------------------------------------------------ jobs
function jobsQuery() {
  const params = new URLSearchParams();
  const state = $("state-filter").value;
  const task = $("task-filter").value;
  if (state) params.set("state", state);
  if (task) params.set("task", task);
  if (view.cursor) params.set("cursor", view.cursor);
  return `jobs?${params}`;
}

function renderJobs(page) {
  const body = $("jobs").tBodies[0];
  body.replaceChildren(...page.jobs.map(jobRow));
  $("no-jobs").hidden = page.jobs.length > 0;
  $("older").hidden = !page.next_cursor;
  $("older").dataset.cursor = page.next_cursor || "";
  $("newest").hidden = view.cursor === null;
}

function jobLink(jobId, className = "job-link") {
  const link = el("a", jobId.slice(0, 8), className);
  link.title = jobId;
  link.href = "#";
  link.addEventListener("click", (event) => {
    event.preventDefault();
    openDetail(jobId);
  });
  return link;
}

function jobRow(job) {
  const tr = el("tr");
  tr.dataset.jobId = job.job_id;
  const idCell = el("td");
  idCell.append(jobLink(job.job_id));
  const stateCell = el("td");
  stateCell.append(el("span", job.state, `state state-${job.state}`));
  stateCell.className = "state-cell";
  const progressCell = el("td");
  if (job.progress !== null && !FINAL.has(job.state)) {
    const bar = el("progress");
    bar.max = 1;
    bar.value = job.progress;
    bar.title = `${job.current} / ${job.total}`;
    progressCell.append(bar);
  }
  const actions = el("td");
  if (!FINAL.has(job.state)) actions.append(cancelButton(job.job_id));
  if (job.parent_id) {
    // A batch's part (its chord's body) or a chain's next step (the job that sent it).
    idCell.append(" ", el("span", "parent", "muted"), " ", jobLink(job.parent_id, "parent-link"));
  }
  tr.append(idCell, el("td", job.kind || job.task), el("td", job.queue), stateCell);
  tr.append(el("td", age(job.created_at), "num"), el("td", span(job.duration_seconds), "num"));
  tr.append(progressCell, actions);
  return tr;
}

function cancelButton(jobId) {
  const button = el("button", "cancel", "cancel danger");
  button.type = "button";
  button.addEventListener("click", async () => {
    if (!window.confirm(`Cancel job ${jobId}?`)) return;
    button.disabled = true;
    try {
      await api(`task/${encodeURIComponent(jobId)}/cancel`, { method: "POST" });
      report(null, `Job ${jobId} cancelled`);
    } catch (error) {
      report(error);
    }
    refresh();
  });
  return button;
}

// ------------------------------------------------------------------ schedules
async function loadSchedules() {
  view.schedulesAt = Date.now();
  const listed = await api("schedules");
  const body = $("schedules").tBodies[0];
  body.replaceChildren(...listed.schedules.map(scheduleRow));
  $("no-schedules").hidden = listed.schedules.length > 0;
}

function scheduleRow(schedule) {
  const tr = el("tr");
  tr.dataset.schedule = schedule.name;
  const name = el("td", schedule.name);
  if (schedule.read_only) name.append(el("span", " (template)", "muted"));
  const expression = `${schedule.expression}${schedule.timezone === "UTC" ? "" : ` ${schedule.timezone}`}`;
  const stateCell = el("td");
  stateCell.append(el("span", schedule.state === "ENABLED" ? "active" : "paused", "schedule-state"));
  const next = schedule.next_runs.length ? new Date(schedule.next_runs[0]).toLocaleString() : "none";
  const last = schedule.last_run_at ? `${age(schedule.last_run_at)} ago` : "–";
  tr.append(name, el("td", schedule.task.replace(/^skylane\./, "")), el("td", expression));
  const overlap = el("td", schedule.overlap);
  if (schedule.held) overlap.append(el("span", ` (1 held, behind ${schedule.held.behind})`, "muted held-run"));
  tr.append(stateCell, overlap, el("td", next, "next-run"), el("td", last));
  tr.append(el("td", schedule.run_count, "num run-count"));
  const actions = el("td");
  if (!schedule.read_only) {
    const paused = schedule.state !== "ENABLED";
    actions.append(scheduleButton(schedule.name, paused ? "resume" : "pause"));
  }
  actions.append(scheduleButton(schedule.name, "fire", "run now"));
  tr.append(actions);
  return tr;
}

function scheduleButton(name, action, label) {
  const button = el("button", label || action, `schedule-${action}`);
  button.type = "button";
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const answer = await api(`schedules/${encodeURIComponent(name)}/${action}`, { method: "POST" });
      if (action === "fire") {
        report(null, answer.started
          ? `${name}: job ${answer.job_id} enqueued`
          : answer.held_for
            ? `${name}: run held, it starts once ${answer.held_for} is final`
            : `${name}: run skipped, ${answer.skipped_for} is still going`);
      }
    } catch (error) {
      report(error);
    }
    view.schedulesAt = 0;
    refresh();
  });
  return button;
}

// ------------------------------------------------------------------ detail
function openDetail(jobId) {
  view.detailId = jobId;
  view.logsAt = 0;
  view.logsSettled = false;
  $("detail").hidden = false;
  refresh();
}

function wantLogs() {
  return !view.logsSettled && Date.now() - view.logsAt >= LOGS_EVERY_MS;
}

async function loadDetail() {
  const withLogs = wantLogs();
  const path = `jobs/${encodeURIComponent(view.detailId)}${withLogs ? "" : "?logs=false"}`;
  const job = await api(path);
  renderDetail(job);
  if (!withLogs) return;
  renderLogs(job);
  view.logsAt = Date.now();
  const ended = job.ended_at ? Date.parse(job.ended_at) : NaN;
  view.logsSettled =
    FINAL.has(job.state) && !job.logs_reason && Date.now() - ended > LOGS_SETTLED_MS;
}

function renderDetail(job) {
  $("detail-id").textContent = job.job_id;
  const fields = [
    ["task", job.task], ["queue", job.queue], ["state", job.state], ["attempts", job.attempts],
    ["created", job.created_at], ["started", job.started_at],
    ["latest attempt", job.last_started_at], ["ended", job.ended_at],
    ["duration", span(job.duration_seconds)], ["user", job.user_id],
  ];
  if (job.total) fields.push(["progress", `${job.current} / ${job.total}`]);
  const items = fields.filter(([, value]) => value !== null && value !== "").flatMap(
    ([name, value]) => [el("dt", name), el("dd", value)]
  );
  if (job.parent_id) {
    const parent = el("dd");
    parent.append(jobLink(job.parent_id, "parent-link"));
    items.push(el("dt", "parent"), parent);
  }
  $("detail-fields").replaceChildren(...items);
  // A batch (a chord's body): its parts, each linked to its own detail.
  $("detail-parts-section").hidden = job.parts.length === 0;
  $("detail-parts-done").textContent =
    job.parts_done === null ? "" : `${job.parts_done} of ${job.parts.length} done`;
  $("detail-parts").replaceChildren(
    ...job.parts.map((partId) => {
      const item = el("li");
      item.append(jobLink(partId, "part-link"));
      return item;
    })
  );
  $("detail-inputs").textContent = JSON.stringify(job.inputs, null, 2);
  const failed = job.error !== null;
  $("detail-outcome-title").textContent = failed ? "Error" : "Result";
  $("detail-outcome").textContent = failed
    ? job.error
    : job.result === null ? "(none yet)" : JSON.stringify(job.result, null, 2);
}

function renderLogs(job) {
  const logs = job.logs || [];
  $("detail-logs").replaceChildren(
    ...logs.map((line) =>
      el("li", [line.timestamp, line.component, line.level, line.message || JSON.stringify(line)]
        .filter(Boolean).join("  "))
    )
  );
  // logs_reason says why there are no lines (CloudWatch Logs unreadable) or not all of them.
  const noLogs = $("detail-no-logs");
  noLogs.hidden = job.logs !== null && job.logs !== undefined && !job.logs_reason;
  noLogs.textContent = job.logs_reason || "Log lines are not available here.";
}

// ------------------------------------------------------------------ bearer token (JWT)
function askForToken() {
  $("token-reason").textContent = auth.refused
    ? "The API refused the token (expired, or for another audience). Paste a new one."
    : "This API takes a bearer token (ApiAuth=JWT). Paste one from your identity provider.";
  $("updated").textContent = "waiting for a token";
  const form = $("token-form");
  if (form.hidden) {
    form.hidden = false;
    $("token").focus();
  }
}

function useToken(event) {
  event.preventDefault(); // never submitted: the token must not end up in a URL
  const input = $("token");
  const token = input.value.trim().replace(/^Bearer\s+/i, "");
  input.value = "";
  if (!token) return;
  auth.token = token;
  auth.refused = false;
  $("token-form").hidden = true;
  refresh();
}

// ------------------------------------------------------------------ refresh loop
function report(error, message) {
  const problem = $("problem");
  problem.hidden = !error && !message;
  problem.textContent = error ? `Could not reach the API (${error.message})` : message || "";
}

async function refresh() {
  clearTimeout(view.timer);
  let waiting = false;
  try {
    const [queues, jobs] = await Promise.all([api("queues"), api(jobsQuery())]);
    renderQueues(queues);
    renderJobs(jobs);
    if (Date.now() - view.schedulesAt >= SCHEDULES_EVERY_MS) await loadSchedules();
    if (view.detailId) await loadDetail();
    $("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
    if (!$("problem").textContent.startsWith("Could not")) return;
    report(null);
  } catch (error) {
    // Without a token, polling waits for one (the form says why); useToken refreshes.
    waiting = error instanceof TokenNeeded;
    report(waiting ? null : error);
  } finally {
    clearTimeout(view.timer);
    if (!document.hidden && !waiting) view.timer = setTimeout(refresh, POLL_MS);
  }
}

function start() {
  $("token-form").addEventListener("submit", useToken);
  const refilter = () => {
    view.cursor = null;
    refresh();
  };
  $("state-filter").addEventListener("change", refilter);
  $("task-filter").addEventListener("change", refilter);
  $("newest").addEventListener("click", refilter);
  $("older").addEventListener("click", () => {
    view.cursor = $("older").dataset.cursor || null;
    refresh();
  });
  $("detail-close").addEventListener("click", () => {
    view.detailId = null;
    $("detail").hidden = true;
  });
  // A hidden tab stops polling; it catches up as soon as it is shown again.
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) refresh();
    else clearTimeout(view.timer);
  });
  refresh();
}

document.addEventListener("DOMContentLoaded", start);
