// The captions overlay of OBS TTS Queue (GET /overlay): who is read and what, with the
// word being spoken highlighted. It uses the listener's public WebSocket protocol
// (Authenticate, Subscribe) and the word timings of playback_started events; a timer moves
// the highlight at each word's start time (timers keep running where animation frames may not).
// URL options: token, font_size (px), words (shown at once; 0 = all), who (0 hides the
// name), hide_after_ms (how long the caption stays after the clip), delay_ms (shifts the
// highlight later, for a sink that starts late). Viewer text only ever goes in textContent.
"use strict";

const EVENTS = ["playback_started", "playback_finished", "skipped", "failed"];
const SAFETY_MS = 3000;  // hide anyway this long after the clip should have ended

const params = new URLSearchParams(location.search);
function number(name, fallback, min, max) {
  const value = Number(params.get(name));
  return params.has(name) && Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : fallback;
}
const options = {
  token: params.get("token"),
  fontSize: number("font_size", 0, 0, 400),
  wordsAtOnce: Math.floor(number("words", 0, 0, 1000)),
  showWho: params.get("who") !== "0",
  hideAfterMs: number("hide_after_ms", 0, 0, 60000),
  delayMs: number("delay_ms", 0, -5000, 5000),
};

const box = document.querySelector(".tts-caption");
const who = box.querySelector(".tts-who");
const line = box.querySelector(".tts-text");
if (options.fontSize > 0) document.documentElement.style.setProperty("--tts-font-size", `${options.fontSize}px`);

let clip = null;  // {id, words, start, page, timer}
let hideTimer = null;

function pageOf(index) {
  return options.wordsAtOnce > 0 ? Math.floor(Math.max(0, index) / options.wordsAtOnce) : 0;
}

function render(page) {
  const first = options.wordsAtOnce > 0 ? page * options.wordsAtOnce : 0;
  const last = options.wordsAtOnce > 0 ? first + options.wordsAtOnce : clip.words.length;
  line.replaceChildren();
  clip.words.slice(first, last).forEach((word, offset) => {
    if (offset > 0) line.append(" ");
    const span = document.createElement("span");
    span.className = "tts-word";
    span.dataset.index = String(first + offset);
    span.textContent = word.text;
    line.append(span);
  });
  clip.page = page;
}

function update() {
  if (clip === null) return;
  const elapsed = performance.now() - clip.start;
  let index = -1;
  while (index + 1 < clip.words.length && clip.words[index + 1].start_ms <= elapsed) index += 1;
  if (pageOf(index) !== clip.page) render(pageOf(index));
  for (const span of line.querySelectorAll(".tts-word")) {
    const at = Number(span.dataset.index);
    span.classList.toggle("spoken", at < index);
    span.classList.toggle("current", at === index);
  }
  box.dataset.current = String(index);
  const next = clip.words[index + 1];
  const wait = next ? next.start_ms - elapsed : clip.durationMs + SAFETY_MS - elapsed;
  if (!next && wait <= 0) { hide(); return; }
  clip.timer = setTimeout(update, Math.max(0, wait));  // at the next word's start time
}

function show(event) {
  stop();
  const words = Array.isArray(event.words) ? event.words : [];
  clip = {id: event.message_id, words: words, start: performance.now() + options.delayMs, page: -1,
          timer: null, durationMs: Number(event.duration_ms) || 0};
  who.textContent = options.showWho ? (event.username || "") : "";
  box.dataset.messageId = event.message_id || "";
  box.dataset.wordTiming = event.word_timing || "";
  render(0);
  box.hidden = false;
  update();
}

function stop() {
  if (clip !== null && clip.timer !== null) clearTimeout(clip.timer);
  if (hideTimer !== null) clearTimeout(hideTimer);
  hideTimer = null;
}

function hide() {
  stop();
  clip = null;
  box.hidden = true;
  who.textContent = "";
  line.replaceChildren();
  delete box.dataset.messageId;
  delete box.dataset.current;
}

function ended(event) {
  if (clip === null || event.message_id !== clip.id) return;
  if (clip.timer !== null) clearTimeout(clip.timer);
  for (const span of line.querySelectorAll(".tts-word")) {
    span.classList.remove("current");
    span.classList.add("spoken");
  }
  if (options.hideAfterMs > 0) hideTimer = setTimeout(hide, options.hideAfterMs);
  else hide();
}

// <html data-captions="connecting|ready|refused">: for a look in the browser's dev tools.
function state(value) { document.documentElement.dataset.captions = value; }

let delay = 500;
function connect() {
  state("connecting");
  const ws = new WebSocket(`ws://${location.host}/`);
  ws.onopen = () => {
    delay = 500;
    if (options.token) ws.send(JSON.stringify({request: "Authenticate", token: options.token, id: "overlay-auth"}));
    ws.send(JSON.stringify({request: "Subscribe", events: EVENTS, id: "overlay"}));
  };
  ws.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.status === "error") {
      state("refused");
      console.warn("captions:", event.error && event.error.message);
    } else if (event.id === "overlay" && event.status === "ok") state("ready");
    else if (event.event === "playback_started") show(event);
    else if (event.event) ended(event);
  };
  ws.onclose = () => {
    hide();
    setTimeout(connect, delay);
    delay = Math.min(delay * 2, 10000);
  };
}
connect();
