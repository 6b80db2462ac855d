// barenet's drawing page: drawing, asking the server, showing its answer.
//
// You draw on a 280x280 canvas (white ink on black, like MNIST's digits), with a pen whose width
// you choose; Undo takes the last stroke back. While you draw, the page sends the canvas as a
// PNG to POST /explain?compact=true, at most every THROTTLE_MS, and at once when you lift the
// pen (as soon as any request on its way is back). The server prepares the picture exactly as
// `barenet predict` prepares a file and answers with the class it reads, every class's
// probability, whether it is unsure or does not think this is a digit at all, and what happened
// inside the network: the stages of the preparation, every layer's output as bytes, the
// saliency (inside.js draws them). Each drawing or upload is an attempt in the history
// (history.js).
//
// The page keeps a few attributes up to date for tests and curious readers:
//   body[data-busy]              "true" while a newer drawing has not been answered yet
//   #prediction[data-strokes]    how many strokes the drawing had when it was answered
//   #prediction[data-source]     "drawing", "upload" or "none"
//   #prediction[data-state]      "sure", "unsure", "not-a-digit" or "none"
//   #prediction[data-unsure]     "true" when the answer is unsure
//   .bar[data-probability]       each class's probability, one .bar per class, in class order
import { clearInside, showInside } from "./inside.js";
import { History } from "./history.js";
import { LUT, paint, unpack } from "./pixels.js";

const THROTTLE_MS = 150; // at most one request per 150 ms while drawing
const MAX_UPLOAD_BYTES = 2 * 1024 * 1024; // the server refuses larger bodies
const SHRUNK_SIDE = 1600; // a larger photo is scaled to this longest side before it is sent
const UNREACHABLE =
  "The server could not be reached, so there is no answer. Is `barenet serve` still running? " +
  "Draw again, or press Clear, to try again.";

const DRAWING_LABEL = "Drawing area: draw one digit here with the mouse or a finger";

const $ = (id) => document.getElementById(id);
const canvas = $("canvas");
const pen = canvas.getContext("2d");
const seen = $("seen");
const predictionBox = $("prediction");
const bars = $("probabilities");
const history = new History($("history"), $("tally"), $("correct-as"), classNames());

// -- the state of the drawing ---------------------------------------------------------------

let strokes = []; // the drawing since the last Clear: [{width, points: [{x, y}]}], for Undo
let drawingId = 0; // grows on every Clear or upload: answers about an older one are dropped
let activePointer = null; // the pointer (mouse, finger, pen) that is drawing, if any
let dirty = false; // the drawing changed since the last request
let urgent = false; // the pen was lifted (or a stroke undone): send without waiting
let inFlight = false; // a request is on its way
let lastSentAt = -Infinity;
let timer = null;
let showingUpload = false; // the canvas shows an uploaded picture: drawing starts afresh
let penWidth = Number($("pen-width").value); // canvas pixels; 20 is 2 of MNIST's 28 pixels

function classNames() {
  return [...bars.children].map((bar) => bar.dataset.className);
}

// -- drawing with pointer events (mouse, touch and pen alike) ------------------------------------

function clearCanvas() {
  pen.fillStyle = "#000";
  pen.fillRect(0, 0, canvas.width, canvas.height);
  pen.strokeStyle = pen.fillStyle = "#fff";
  pen.lineCap = "round"; // round ends and joins: a stroke looks like a pen's, not a ribbon's
  pen.lineJoin = "round";
}

// The pointer's position in canvas pixels: the canvas is shown at another size than 280x280.
function canvasPoint(event) {
  const box = canvas.getBoundingClientRect();
  return {
    x: ((event.clientX - box.left) * canvas.width) / box.width,
    y: ((event.clientY - box.top) * canvas.height) / box.height,
  };
}

function drawLine(from, to, width) {
  pen.lineWidth = width;
  pen.beginPath();
  pen.moveTo(from.x, from.y);
  pen.lineTo(to.x, to.y);
  pen.stroke();
}

function drawDot(at, width) {
  pen.beginPath();
  pen.arc(at.x, at.y, width / 2, 0, 2 * Math.PI);
  pen.fill();
}

// Draw every stroke again, from a black canvas: after Undo.
function redraw() {
  clearCanvas();
  for (const stroke of strokes) {
    drawDot(stroke.points[0], stroke.width);
    for (let i = 1; i < stroke.points.length; i++) {
      drawLine(stroke.points[i - 1], stroke.points[i], stroke.width);
    }
  }
}

canvas.addEventListener("pointerdown", (event) => {
  if (event.pointerType === "mouse" && event.button !== 0) return; // left button only
  event.preventDefault();
  if (showingUpload) startAgain(); // a drawing over a photo would be neither
  canvas.setPointerCapture(event.pointerId); // keep the stroke even if it leaves the canvas
  activePointer = event.pointerId;
  const point = canvasPoint(event);
  strokes.push({ width: penWidth, points: [point] });
  drawDot(point, penWidth); // a tap leaves a dot
  $("undo").disabled = false;
  schedulePrediction(false);
});

canvas.addEventListener("pointermove", (event) => {
  if (event.pointerId !== activePointer) return;
  const stroke = strokes.at(-1);
  // A fast hand moves further than one event per frame shows: draw every coalesced point.
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
  for (const e of events.length ? events : [event]) {
    const point = canvasPoint(e);
    drawLine(stroke.points.at(-1), point, stroke.width);
    stroke.points.push(point);
  }
  schedulePrediction(false);
});

function endStroke(event) {
  if (event.pointerId !== activePointer) return;
  activePointer = null;
  schedulePrediction(true); // the finished stroke is answered at once
}
canvas.addEventListener("pointerup", endStroke);
canvas.addEventListener("pointercancel", endStroke);

// Undo the last stroke: the drawing is drawn again without it and answered again.
function undo() {
  if (activePointer !== null || strokes.length === 0 || showingUpload) return;
  strokes.pop();
  if (strokes.length === 0) {
    startAgain();
    return;
  }
  redraw();
  schedulePrediction(true);
}
$("undo").addEventListener("click", undo);
document.addEventListener("keydown", (event) => {
  const target = event.target;
  if (target instanceof HTMLInputElement || target instanceof HTMLSelectElement) return;
  if ((event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === "z") {
    event.preventDefault();
    undo();
  }
});

$("pen-width").addEventListener("input", () => {
  penWidth = Number($("pen-width").value);
  $("pen-width-value").textContent = `${penWidth} px`;
});

// -- asking the server ----------------------------------------------------------------------

// Send the drawing soon: at once if nothing was sent for THROTTLE_MS (or `now`: the pen is up),
// else when that time has passed; while a request is on its way, as soon as it comes back.
function schedulePrediction(now) {
  dirty = true;
  urgent = urgent || now;
  document.body.dataset.busy = "true";
  if (inFlight) return;
  const wait = urgent ? 0 : Math.max(0, lastSentAt + THROTTLE_MS - performance.now());
  clearTimeout(timer);
  timer = setTimeout(sendDrawing, wait);
}

async function sendDrawing() {
  timer = null;
  if (!dirty || inFlight || strokes.length === 0) return;
  dirty = false;
  urgent = false;
  inFlight = true;
  lastSentAt = performance.now();
  const sent = { id: drawingId, strokes: strokes.length };
  try {
    const png = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
    const answer = await postExplain(png, "image/png");
    if (sent.id === drawingId) showAnswer(answer, "drawing", sent.strokes);
  } catch (error) {
    if (sent.id === drawingId) showError(error, sent.strokes);
  } finally {
    inFlight = false;
    if (dirty) schedulePrediction(false);
    else document.body.dataset.busy = "false";
    settle(sent.id);
  }
}

// POST a body to /explain; returns the JSON answer or throws an Error with a sentence for people.
// Without a content type (a FormData body) the browser writes the multipart one itself.
async function postExplain(body, contentType) {
  const headers = contentType ? { "Content-Type": contentType } : {};
  let response;
  try {
    response = await fetch("/explain?compact=true", { method: "POST", body, headers });
  } catch {
    throw new Error(UNREACHABLE); // the browser's own words ("Failed to fetch") say nothing
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const reason = answer.detail || `the server answered ${response.status}`;
    throw new Error(response.status >= 500 ? `The server failed: ${reason}` : reason);
  }
  return answer;
}

// -- showing the answer ---------------------------------------------------------------------

let current = null; // the answer on show, and where it came from

// "sure", "unsure" or "not-a-digit": how the page shows an answer.
function stateOf(answer) {
  if (answer.not_a_digit) return "not-a-digit";
  return answer.unsure ? "unsure" : "sure";
}

function showAnswer(answer, source, strokeCount) {
  current = { answer, source, id: drawingId };
  const state = stateOf(answer);
  const p = percent(answer.probability);
  const notDigit = state === "not-a-digit";
  // Not a digit: no digit is announced; what the network would have said is in the note.
  $("prediction-caption").textContent = notDigit ? "it does not look like" : "it reads";
  $("predicted-class").textContent = notDigit ? "?" : answer.class_name;
  $("confidence").textContent = {
    sure: `${p} sure`,
    unsure: `unsure: ${p}`,
    "not-a-digit": "a digit",
  }[state];
  $("mini-caption").textContent = notDigit ? "" : "reads";
  $("mini-class").textContent = notDigit ? "?" : answer.class_name;
  $("mini-confidence").textContent = {
    sure: p,
    unsure: `unsure ${p}`,
    "not-a-digit": "not a digit",
  }[state];
  $("mini-answer").dataset.state = state;
  $("unsure-note").hidden = state !== "unsure";
  $("not-digit-note").hidden = !notDigit;
  const reasons = answer.not_a_digit_reasons || [];
  $("not-digit-why").textContent = reasons.length ? `: ${reasons.join("; ")}` : "";
  $("not-digit-guess").textContent = `${answer.class_name} (${p})`;
  // A small digit drawn with a thick pen is a blob once enlarged: say so by the canvas.
  const small = answer.notes.some((note) => note.startsWith("small drawing"));
  $("hint").textContent = small ? "Small drawing: draw it bigger, filling most of the square, " +
    "to be read more reliably." : "";
  drawSeen(answer.input);
  showBars(answer.probabilities, answer.class_index);
  showInside(answer);
  Object.assign(predictionBox.dataset, {
    source,
    strokes: String(strokeCount),
    classIndex: String(answer.class_index),
    unsure: String(answer.unsure),
    state,
  });
  if (!$("status").classList.contains("pending")) setStatus("");
}

// A failed request: the old answer no longer matches the picture, so it goes.
function showError(error, strokeCount) {
  resetAnswer("no answer");
  predictionBox.dataset.strokes = String(strokeCount);
  setStatus(error.message, true);
}

function resetAnswer(words = "draw a digit") {
  current = null;
  $("prediction-caption").textContent = "it reads";
  $("predicted-class").textContent = "?";
  $("confidence").textContent = words;
  $("mini-caption").textContent = "reads";
  $("mini-class").textContent = "?";
  $("mini-confidence").textContent = "";
  $("mini-answer").dataset.state = "none";
  $("unsure-note").hidden = true;
  $("not-digit-note").hidden = true;
  $("hint").textContent = "";
  Object.assign(predictionBox.dataset, {
    source: "none", strokes: "0", unsure: "false", state: "none",
  });
  delete predictionBox.dataset.classIndex;
  seen.getContext("2d").clearRect(0, 0, seen.width, seen.height);
  seen.setAttribute("aria-label", "The digit as the network sees it: nothing drawn yet");
  for (const bar of bars.children) setBar(bar, 0, false, null);
  clearInside();
  history.release(); // "That was wrong" has no answer to correct now
  setStatus("");
}

// The answer has settled (the pen is up, nothing newer to send): announce it to screen readers
// and record it as the current attempt. While drawing, nothing is announced.
function settle(id) {
  if (id !== drawingId || dirty || inFlight || activePointer !== null || !current) return;
  const { answer, source } = current;
  const p = percent(answer.probability);
  const text = {
    sure: `It reads ${answer.class_name}, ${p} sure`,
    unsure: `Unsure; perhaps ${answer.class_name}, ${p}`,
    "not-a-digit": `This does not look like a digit; the network would have said ` +
      `${answer.class_name}, ${p}`,
  }[stateOf(answer)];
  if ($("announce").textContent !== text) $("announce").textContent = text;
  history.record(id, answer, source);
}

// Draw the network's input one canvas pixel per value; CSS enlarges it with
// `image-rendering: pixelated`, so each value shows as a square.
function drawSeen(packed) {
  const picture = unpack(packed);
  const [height, width] = picture.shape;
  paint(seen, picture.bytes, 0, width, height, LUT.grey);
  seen.setAttribute("aria-label", `The digit as the network sees it, ${width}×${height} pixels`);
  $("seen-size").textContent = `(${width}×${height})`;
}

// The bars stay in class order in the page (tests read them so); CSS `order` shows them most
// likely first, and the top three are ranked.
function showBars(probabilities, best) {
  const ranking = probabilities.map((p, i) => [p, i]).sort((a, b) => b[0] - a[0]);
  const rank = new Map(ranking.map(([, i], r) => [i, r]));
  probabilities.forEach((p, i) => setBar(bars.children[i], p, i === best, rank.get(i)));
}

function setBar(bar, probability, isBest, rank) {
  bar.dataset.probability = String(probability);
  bar.classList.toggle("best", isBest);
  // Custom properties, not style attributes: the page's security policy allows only these.
  bar.querySelector(".fill").style.setProperty("--p", String(probability));
  bar.style.setProperty("order", String(rank ?? Number(bar.dataset.classIndex)));
  bar.querySelector(".value").textContent = percent(probability);
  const ranked = rank !== null && rank < 3;
  bar.querySelector(".rank").textContent = ranked ? ["1st", "2nd", "3rd"][rank] : "";
}

function percent(p) {
  return p >= 0.995 || p < 0.005 ? `${Math.round(p * 100)}%` : `${(p * 100).toFixed(1)}%`;
}

function setStatus(text, isError = false, pending = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
  $("status").classList.toggle("pending", pending);
}

// -- Clear and Upload -----------------------------------------------------------------------

function startAgain() {
  drawingId += 1;
  strokes = [];
  dirty = false;
  urgent = false;
  showingUpload = false;
  clearTimeout(timer);
  clearCanvas();
  $("undo").disabled = true;
  canvas.setAttribute("aria-label", DRAWING_LABEL);
  resetAnswer();
  document.body.dataset.busy = inFlight ? "true" : "false";
}
$("clear").addEventListener("click", startAgain);

// A photo or scan of a digit goes to the same endpoint as a multipart form; the server prepares
// it like the drawing. The canvas shows the picture, so that it matches the answer.
$("upload").addEventListener("change", async () => {
  const chosen = $("upload").files[0];
  $("upload").value = ""; // so that choosing the same file again sends it again
  if (!chosen) return;
  startAgain(); // an answer still coming for the drawing must not replace this one
  const id = drawingId;
  setStatus(`reading ${chosen.name}…`, false, true);
  try {
    showingUpload = await showPicture(chosen);
    const form = new FormData();
    form.append("file", await smallEnough(chosen));
    const answer = await postExplain(form, null);
    if (id !== drawingId) return;
    showAnswer(answer, "upload", 0);
    setStatus(`read from ${chosen.name}`);
    settle(id);
  } catch (error) {
    if (id === drawingId) showError(error, 0);
  }
});

// Draw the chosen picture on the canvas, fitted inside it; false if the browser cannot decode it.
async function showPicture(file) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file); // turned upright as the photo's EXIF data says
  } catch {
    return false;
  }
  const scale = Math.min(canvas.width / bitmap.width, canvas.height / bitmap.height);
  const width = bitmap.width * scale;
  const height = bitmap.height * scale;
  pen.fillStyle = "#000";
  pen.fillRect(0, 0, canvas.width, canvas.height);
  pen.drawImage(bitmap, (canvas.width - width) / 2, (canvas.height - height) / 2, width, height);
  pen.fillStyle = "#fff";
  canvas.setAttribute("aria-label", `Drawing area, showing the uploaded picture ${file.name}`);
  return true;
}

// A phone's photo is often larger than the server takes (2 MB). Such a file is decoded here and
// sent again as a JPEG of at most SHRUNK_SIDE pixels a side: the digit is shrunk to 20x20 pixels
// in the end anyway. Smaller files are sent as they are, to be prepared exactly as
// `barenet predict` prepares a file; so is anything the browser cannot decode, and the server
// says what is wrong with it.
async function smallEnough(file) {
  if (file.size <= MAX_UPLOAD_BYTES) return file;
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return file;
  }
  const scale = Math.min(1, SHRUNK_SIDE / Math.max(bitmap.width, bitmap.height));
  const shrunk = document.createElement("canvas");
  shrunk.width = Math.max(1, Math.round(bitmap.width * scale));
  shrunk.height = Math.max(1, Math.round(bitmap.height * scale));
  const context = shrunk.getContext("2d");
  context.fillStyle = "#fff"; // transparent parts count as white paper, as on the server
  context.fillRect(0, 0, shrunk.width, shrunk.height);
  context.drawImage(bitmap, 0, 0, shrunk.width, shrunk.height);
  const jpeg = await new Promise((resolve) => shrunk.toBlob(resolve, "image/jpeg", 0.9));
  return new File([jpeg], file.name, { type: "image/jpeg" });
}

// -- start ------------------------------------------------------------------------------------

clearCanvas();
document.body.dataset.ready = "true";
