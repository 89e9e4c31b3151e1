// The TTS dashboard: the listener's WebSocket protocol (the same one bots use), plain DOM.
// Viewer text is only ever set with textContent, never parsed as HTML.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const TOKEN_KEY = "obs-tts-token";  // sessionStorage: this tab only, never a URL
  const RANK = { URGENT: 0, HIGH: 1, NORMAL: 2, LOW: 3 };
  const ENDINGS = new Set(["playback_finished", "skipped", "failed", "dropped", "rejected", "filtered"]);
  const OUTCOME = { playback_finished: "played", skipped: "skipped", failed: "failed", dropped: "dropped",
                    rejected: "rejected", filtered: "filtered" };
  const HISTORY_KEEP = 200, MAX_ROWS = 250, QUEUE_LIMIT = 250;  // rows: more than anyone scrolls
  const STATS_EVERY_MS = 2000, RESYNC_EVERY_MS = 5000, RESYNC_AFTER_MS = 300, LONG_QUEUE_EVERY_MS = 1000;
  const EVENTS = ["queued", "playback_started", ...ENDINGS];

  let socket = null, nextId = 1, retryMs = 500, live = false, loggingIn = false;
  const calls = new Map();            // request id -> {resolve}
  const queue = new Map();            // message_id -> waiting or held message
  const ended = new Set();            // ids that ended (a late GetQueue reply must not bring them back)
  const rows = new Map();             // "list:id" -> <li>
  let playing = null;                 // {item, startedMs, durationMs, elapsedKnown}
  let history = [];                   // end events, newest first
  let stats = null, more = 0, renderPending = false, resyncTimer = null, historyDirty = true;
  let arrivedMeanwhile = null, resyncAgain = false;  // queued while a GetQueue is on its way
  let followingQueued = true;  // false while more than QUEUE_LIMIT wait (GetQueue each second instead)

  // -- the connection ----------------------------------------------------------------

  function connect() {
    setConnection("Connecting…", false);
    socket = new WebSocket(`ws://${location.host}/`);
    socket.onopen = () => { retryMs = 500; begin(); };
    socket.onmessage = (message) => receive(message.data);
    socket.onclose = () => {
      live = false;
      for (const call of calls.values()) call.resolve({ status: "error", error: { code: "closed", message: "connection closed" } });
      calls.clear();
      if (loggingIn) return;  // the listener closes unauthenticated sockets; the form reconnects
      setConnection("Disconnected; reconnecting…", false);
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 5000);
    };
  }

  function call(request, fields = {}) {  // a request (GetQueue, Skip, ...)
    return send({ ...fields, request });
  }

  function send(frame) {  // a request or an event frame (user_banned, tts), answered by its id
    const id = `d${nextId++}`;
    return new Promise((resolve) => {
      if (!socket || socket.readyState !== WebSocket.OPEN) {
        resolve({ status: "error", error: { code: "closed", message: "not connected" } });
        return;
      }
      calls.set(id, { resolve });
      socket.send(JSON.stringify({ ...frame, id }));
    });
  }

  function receive(data) {
    let frame;
    try { frame = JSON.parse(data); } catch { return; }
    if (frame.event) { onEvent(frame); return; }
    const pending = calls.get(frame.id);
    if (pending) { calls.delete(frame.id); pending.resolve(frame); }
  }

  async function begin() {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) {
      const reply = await call("Authenticate", { token });
      if (reply.status !== "ok") {
        if (reply.error && reply.error.code === "unauthorized") sessionStorage.removeItem(TOKEN_KEY);
        showLogin(reply.error ? reply.error.message : "could not log in");
        return;
      }
    }
    followingQueued = true;
    const subscribed = await call("Subscribe", { events: EVENTS });
    if (subscribed.status !== "ok") {
      const code = subscribed.error && subscribed.error.code;
      showLogin(code === "unauthorized" ? "" : subscribed.error.message);
      return;
    }
    loggingIn = false;
    $("login").hidden = true;
    $("main").hidden = false;
    live = true;
    setConnection("Live", true);
    await Promise.all([resync(), loadHistory(), refreshStats()]);
  }

  function showLogin(problem) {
    loggingIn = true;
    $("main").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = problem || "";
    setConnection("Log in to continue", false);
    $("token").focus();
  }

  $("login").addEventListener("submit", async (submitted) => {
    submitted.preventDefault();
    const token = $("token").value;
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    $("token").value = "";
    $("login-error").textContent = "";
    if (socket && socket.readyState === WebSocket.OPEN) begin();
    else connect();  // begin() logs in with the kept token
  });

  function setConnection(text, ok) {
    $("connection").textContent = text;
    $("connection").classList.toggle("live", ok);
  }

  // -- state from events and replies ---------------------------------------------------------

  function onEvent(event) {
    const id = event.message_id;
    if (event.event === "queued") {
      if (ended.has(id)) return;
      const item = fromEvent(event, event.held ? "held" : "queued");
      queue.set(id, item);
      if (arrivedMeanwhile) arrivedMeanwhile.set(id, item);
      if (event.held) resyncSoon();  // its hold reason and countdown come with GetQueue
    } else if (event.event === "playback_started") {
      queue.delete(id);
      remember(id);  // no longer waiting: a GetQueue answered earlier must not bring it back
      playing = { item: fromEvent(event, "playing"), startedMs: performance.now(),
                  durationMs: event.duration_ms || 0, elapsedKnown: true };
    } else if (ENDINGS.has(event.event)) {
      if (id) { queue.delete(id); remember(id); }
      if (playing && playing.item.message_id === id) playing = null;
      history.unshift(event);
      if (history.length > HISTORY_KEEP) history.length = HISTORY_KEEP;
      historyDirty = true;
    }
    if (queue.size > QUEUE_LIMIT) { follow(false); resyncSoon(); }  // a long queue: see follow()
    scheduleRender();
  }

  function fromEvent(event, state) {
    return { message_id: event.message_id, priority: event.priority, text: event.text, voice: event.voice,
             engine: event.engine, event_type: event.event_type || "tts", username: event.username, state,
             created_at: event.ts };
  }

  function remember(id) {
    ended.add(id);
    if (ended.size > 2000) ended.delete(ended.values().next().value);
  }

  async function resync() {
    clearTimeout(resyncTimer);
    resyncTimer = null;
    if (arrivedMeanwhile) { resyncAgain = true; return; }  // one GetQueue at a time
    arrivedMeanwhile = new Map();
    const reply = await call("GetQueue", { limit: QUEUE_LIMIT });
    const arrived = arrivedMeanwhile;
    arrivedMeanwhile = null;
    if (resyncAgain) { resyncAgain = false; resyncSoon(); }
    if (reply.status !== "ok") return;
    const now = performance.now();
    queue.clear();
    for (const item of reply.queue) {
      if (ended.has(item.message_id)) continue;
      if (item.state === "held") item.heldUntilMs = now + (item.held_for_s || 0) * 1000;
      queue.set(item.message_id, item);
    }
    for (const [id, item] of arrived) if (!queue.has(id) && !ended.has(id)) queue.set(id, item);
    more = Math.max(0, reply.pending - reply.queue.length);
    follow(more === 0);
    if (more > 0) resyncSoon(LONG_QUEUE_EVERY_MS);
    const current = reply.now_playing;
    if (!current) playing = null;
    else if (!playing || playing.item.message_id !== current.message_id) {
      playing = { item: current, startedMs: now, durationMs: 0, elapsedKnown: false };
    }
    scheduleRender();
  }

  function resyncSoon(delay = RESYNC_AFTER_MS) {
    if (resyncTimer === null) resyncTimer = setTimeout(resync, delay);
  }

  // Beyond QUEUE_LIMIT waiting messages the page shows the first ones and a count: it then
  // stops taking one "queued" event per message (a raid or a flood: thousands) and asks
  // GetQueue every second instead, which keeps both the page and the listener light.
  async function follow(queued) {
    if (queued === followingQueued) return;
    followingQueued = queued;
    const events = queued ? EVENTS : EVENTS.filter((name) => name !== "queued");
    await call("Subscribe", { events });
    if (queued) resyncSoon();  // what was queued before the subscription took effect
  }

  async function loadHistory() {
    const reply = await call("GetHistory");
    if (reply.status !== "ok") return;
    const seen = new Set(history.map((e) => `${e.event}:${e.message_id}:${e.ts}`));
    for (const event of reply.history) {
      if (!seen.has(`${event.event}:${event.message_id}:${event.ts}`)) history.push(event);
      if (event.message_id) remember(event.message_id);
    }
    history.sort((a, b) => b.ts - a.ts);
    history.length = Math.min(history.length, HISTORY_KEEP);
    historyDirty = true;
    scheduleRender();
  }

  async function refreshStats() {
    const reply = await call("GetStats");
    if (reply.status !== "ok") return;
    stats = reply.stats;
    renderControls();
    renderHealth();
  }

  // -- rendering -----------------------------------------------------------------------------

  function scheduleRender() {
    if (renderPending) return;
    renderPending = true;
    requestAnimationFrame(() => { renderPending = false; render(); });
  }

  function render() {
    const waiting = [], held = [];
    for (const item of queue.values()) (item.state === "held" ? held : waiting).push(item);
    waiting.sort((a, b) => (RANK[a.priority] - RANK[b.priority]) || (a.created_at - b.created_at));
    held.sort((a, b) => a.created_at - b.created_at);
    sync($("queue"), waiting.slice(0, MAX_ROWS), queueRow);
    sync($("held"), held.slice(0, MAX_ROWS), heldRow);
    $("queue-count").textContent = String(waiting.length + more);
    $("held-count").textContent = String(held.length);
    $("queue-empty").hidden = waiting.length > 0;
    $("held-empty").hidden = held.length > 0;
    const hidden = waiting.length - Math.min(waiting.length, MAX_ROWS) + more;
    $("queue-more").textContent = hidden > 0 ? `${hidden} more not shown` : "";
    renderPlaying();
    renderCountdowns();
    if (historyDirty) { historyDirty = false; renderHistory(); }
  }

  // Keeps ``list``'s rows in the order of ``items``, rebuilding a row only when it changed.
  function sync(list, items, build) {
    const wanted = new Set(items.map((item) => item.message_id));
    for (const child of [...list.children]) {
      if (!wanted.has(child.dataset.messageId)) { child.remove(); rows.delete(`${list.id}:${child.dataset.messageId}`); }
    }
    let cursor = list.firstElementChild;
    for (const item of items) {
      const key = `${list.id}:${item.message_id}`;
      const signature = `${item.state}|${item.hold_reason || ""}|${item.needs_approval || ""}`;
      let row = rows.get(key);
      if (row && row.dataset.signature !== signature) {
        if (row === cursor) cursor = cursor.nextElementSibling;
        row.remove();
        row = undefined;
      }
      if (!row) {
        row = build(item);
        row.dataset.messageId = item.message_id;
        row.dataset.signature = signature;
        rows.set(key, row);
      }
      if (row === cursor) cursor = cursor.nextElementSibling;
      else list.insertBefore(row, cursor);
    }
  }

  function node(tag, className, text) {
    const made = document.createElement(tag);
    if (className) made.className = className;
    if (text !== undefined && text !== null) made.textContent = String(text);
    return made;
  }

  function button(label, action, style) {
    const made = node("button", style || "", label);
    made.type = "button";
    made.dataset.action = action;
    return made;
  }

  function tags(...parts) {
    const line = node("div", "tags");
    for (const [text, className] of parts) if (text) line.append(node("span", className || "tag", text));
    return line;
  }

  function queueRow(item) {
    const row = node("li");
    row.append(tags([item.priority, `tag ${item.priority}`], [item.event_type, "tag"], [item.username || "", "who"],
                    [item.state, "tag"], [item.voice ? `voice ${item.voice}` : "", "tag"]),
               node("p", "text", item.text), button("Remove", "remove", "secondary"));
    return row;
  }

  function heldRow(item) {
    const row = node("li");
    const wait = node("span", "meta countdown");
    wait.dataset.countdown = item.needs_approval ? "" : "1";
    row.append(tags([item.priority, `tag ${item.priority}`], [item.event_type, "tag"], [item.username || "", "who"],
                    ["held", "tag held"]),
               node("p", "text", item.text),
               node("p", "meta", `Held: ${item.hold_reason || "waiting for a moderator"}`), wait,
               node("div", "buttons"));
    row.lastChild.append(button("Approve", "approve"), button("Reject", "reject", "danger"));
    return row;
  }

  function renderCountdowns() {
    const now = performance.now();
    for (const row of $("held").children) {
      const item = queue.get(row.dataset.messageId);
      const wait = row.querySelector(".countdown");
      if (!item || !wait) continue;
      if (item.needs_approval) { wait.textContent = "Waits for Approve or Reject."; continue; }
      if (item.heldUntilMs === undefined) { wait.textContent = ""; continue; }
      const left = Math.max(0, Math.ceil((item.heldUntilMs - now) / 1000));
      wait.textContent = left > 0 ? `Plays by itself in ${left} s unless rejected.` : "Released; playing soon.";
      if (left === 0) resyncSoon();
    }
  }

  function renderPlaying() {
    $("now-idle").hidden = playing !== null;
    $("now-playing").hidden = playing === null;
    if (!playing) return;
    const item = playing.item;
    $("now-who").textContent = item.username || item.event_type || "tts";
    const meta = [item.priority, item.event_type, item.voice ? `voice ${item.voice}` : "default voice",
                  item.engine ? `engine ${item.engine}` : ""].filter(Boolean).join(" · ");
    $("now-meta").textContent = meta;
    $("now-text").textContent = item.text;
    $("now-playing").dataset.messageId = item.message_id;
    const total = playing.durationMs / 1000;
    const elapsed = (performance.now() - playing.startedMs) / 1000;
    const progress = $("now-progress");
    progress.max = total || 1;
    progress.value = total ? Math.min(elapsed, total) : 0;
    $("now-time").textContent = !playing.elapsedKnown ? "playing" :
      total ? `${fmt(Math.min(elapsed, total))} / ${fmt(total)}` : fmt(elapsed);
  }

  function fmt(seconds) {
    const s = Math.floor(seconds);
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }

  function renderHistory() {
    const wanted = $("history-search").value.trim().toLowerCase();
    const list = $("history");
    const shown = history.filter((event) => !wanted ||
      [event.username, event.text, event.sent_text].some((s) => (s || "").toLowerCase().includes(wanted)));
    list.replaceChildren(...shown.map(historyRow));
    $("history-empty").hidden = shown.length > 0;
    $("history-empty").textContent = history.length ? "Nothing matches the search." : "Nothing has ended yet.";
  }

  function historyRow(event) {
    const outcome = OUTCOME[event.event] || event.event;
    const row = node("li");
    row.dataset.messageId = event.message_id || "";
    row.dataset.username = event.username || "";
    const when = new Date(event.ts * 1000).toLocaleTimeString();
    row.append(tags([outcome, `tag ${outcome}`], [event.priority, `tag ${event.priority}`],
                    [event.event_type || "tts", "tag"], [event.username || "", "who"], [when, "meta"]));
    for (const [label, text] of historyText(event, outcome)) {
      const line = node("p", "text");
      line.append(node("span", "label", label), " ", text);
      row.append(line);
    }
    const why = [event.reason && `reason: ${event.reason}`, event.stage && `stage: ${event.stage}`,
                 event.error && `error: ${event.error}`].filter(Boolean).join(" · ");
    if (why) row.append(node("p", "meta", why));
    const actions = node("div", "buttons");
    if (event.message_id && (outcome === "played" || outcome === "skipped")) {
      actions.append(button("Replay", "replay", "secondary"));
    }
    if (event.username) actions.append(button("Block viewer", "block", "danger"));
    if (actions.children.length) row.append(actions);
    return row;
  }

  // A history row's text lines, [label, text]: rejected and filtered messages were never
  // going to be spoken, so they show what the viewer sent; the others show what was said
  // (played, skipped) or would have been (dropped, failed), then what the viewer sent when
  // filters or the template left some of it out. sent_text: the viewer's own words.
  function historyText(event, outcome) {
    const sent = event.sent_text || "", spoken = event.text || "";
    if ((outcome === "rejected" || outcome === "filtered") && sent) return [["sent", sent]];
    const lines = [[outcome === "played" || outcome === "skipped" ? "said" : "would have said", spoken]];
    if (sent && !spoken.includes(sent)) lines.push(["sent", sent]);
    return lines;
  }

  function renderControls() {
    if (!stats) return;
    $("pause").textContent = stats.paused ? "Resume" : "Pause";
    $("enable").textContent = stats.enabled ? "Disable" : "Enable";
    const state = [stats.paused ? "Paused" : "Playing", stats.enabled ? "accepting messages" : "disabled: new messages are rejected"];
    $("state-line").textContent = state.join(", ");
  }

  function renderHealth() {
    if (!stats) return;
    const lines = [];
    const engine = stats.engine;
    lines.push(["Engine", engine ? `${engine.name}${engine.status ? ": " + engine.status : ": ok"}` : "none",
                engine && /down/.test(engine.status || "")]);
    lines.push(["Sink", stats.waiting_for_sink ? `waiting for OBS: ${stats.waiting_for_sink}` : stats.player_state,
                Boolean(stats.waiting_for_sink)]);
    lines.push(["Queue", `${stats.pending} pending (${stats.held} held), ${stats.in_flight} in flight`]);
    lines.push(["Counts", `accepted ${stats.accepted}, played ${stats.played} (skipped ${stats.skipped}), ` +
                `failed ${stats.failed}, dropped ${stats.dropped}, rejected ${stats.rejected}`, stats.failed > 0]);
    const latency = stats.latency_ms || {};
    lines.push(["Latency", latency.p50 === undefined || latency.p50 === null ? "no clip yet" :
                `p50 ${latency.p50} ms, p95 ${latency.p95} ms, p99 ${latency.p99} ms (event to speech)`]);
    lines.push(["Workers", `${stats.busy_workers} busy of ${stats.active_workers}`]);
    lines.push(["Journal", stats.journal_error ? `${stats.journal_state}: ${stats.journal_error}` : stats.journal_state,
                stats.journal_state === "refusing_writes"]);
    const connectors = Object.entries(stats.connectors || {});
    if (!connectors.length) lines.push(["Connectors", "none running"]);
    for (const [name, report] of connectors) {
      const detail = report.reason || report.last_error;
      lines.push([name, `${report.state}${detail ? ": " + detail : ""} (${report.events} events)`,
                  !["connected", "listening"].includes(report.state)]);
    }
    const list = $("health");
    list.replaceChildren();
    for (const [term, value, bad] of lines) {
      list.append(node("dt", "", term), node("dd", bad ? "bad" : "", value));
    }
  }

  // -- actions -------------------------------------------------------------------------------

  function say(target, reply, done) {
    $(target).textContent = reply.status === "ok" ? done(reply) :
      `${reply.error ? reply.error.message : reply.status}`;
  }

  async function act(control, work) {
    control.disabled = true;
    try { await work(); } finally { control.disabled = false; }
  }

  const controls = {
    skip: async () => say("action-result", await call("Skip"),
                          (r) => r.skipped ? "Skipped the clip." : "Nothing was playing."),
    replay: async () => say("action-result", await call("Replay"), () => "Replaying the last clip next."),
    pause: async () => {
      const reply = await call(stats && stats.paused ? "Resume" : "Pause");
      say("action-result", reply, (r) => r.paused ? "Paused: the current clip finishes, nothing new starts." : "Resumed.");
    },
    clear: async () => say("action-result", await call("Clear"),
                           (r) => `Cleared ${r.cleared} waiting message(s).`),
    enable: async () => {
      const reply = await call(stats && !stats.enabled ? "Enable" : "Disable");
      say("action-result", reply, (r) => r.enabled ? "Enabled." : "Disabled: new messages are rejected.");
    },
  };
  for (const [name, work] of Object.entries(controls)) {
    $(name).addEventListener("click", (click) => act(click.currentTarget, async () => { await work(); await refreshStats(); }));
  }

  async function rowAction(click) {
    const control = click.target.closest("button[data-action]");
    if (!control) return;
    const row = control.closest("li");
    const id = row.dataset.messageId;
    const action = control.dataset.action;
    await act(control, async () => {
      if (action === "approve" || action === "reject" || action === "remove") {
        const request = { approve: "Approve", reject: "Reject", remove: "Remove" }[action];
        const reply = await call(request, { message_id: id });
        say("action-result", reply, () => ({ approve: "Approved.", reject: "Rejected.", remove: "Removed." })[action]);
        if (reply.status === "ok" && action !== "approve") { queue.delete(id); remember(id); }
        if (reply.status === "ok" && action === "approve") { const item = queue.get(id); if (item) item.state = "queued"; }
        scheduleRender();
        resyncSoon();
      } else if (action === "replay") {
        say("action-result", await call("Replay", { message_id: id }), () => "Replaying it next.");
      } else if (action === "block") {
        const username = row.dataset.username;
        const seconds = $("block-seconds").value;
        const frame = seconds ? { type: "user_timeout", username, duration_seconds: Number(seconds) }
                              : { type: "user_banned", username };
        const reply = await send(frame);
        say("action-result", reply, (r) => `Blocked ${username} for ${r.blocked_seconds} s` +
            (r.removed && r.removed.length ? `; removed ${r.removed.length} waiting message(s).` : "."));
      }
    });
  }
  for (const list of ["queue", "held", "history"]) $(list).addEventListener("click", rowAction);

  $("history-search").addEventListener("input", () => { historyDirty = true; scheduleRender(); });

  $("test-form").addEventListener("submit", async (submitted) => {
    submitted.preventDefault();
    const fields = { message: $("test-text").value, priority: $("test-priority").value };
    if ($("test-voice").value.trim()) fields.voice = $("test-voice").value.trim();
    const reply = await call("Speak", fields);
    if (reply.status === "ok") $("test-result").textContent = `Queued (${reply.state}): ${reply.message_id}`;
    else if (reply.status === "filtered" || reply.status === "rejected") {
      $("test-result").textContent = `Not spoken (${reply.status}): ${reply.reason}`;
    } else $("test-result").textContent = reply.error ? reply.error.message : reply.status;
  });

  setInterval(() => { if (live) { renderPlaying(); renderCountdowns(); } }, 500);
  setInterval(() => { if (live) refreshStats(); }, STATS_EVERY_MS);
  setInterval(() => { if (live) resync(); }, RESYNC_EVERY_MS);
  connect();
})();
