// barenet's drawing page.
//
// You draw on a 280x280 canvas (white ink on black, like MNIST's digits). While you draw, the
// page sends the canvas as a PNG to POST /predict, at most every THROTTLE_MS and once more when
// you lift the pen. The server prepares the picture exactly as `barenet predict` prepares a file
// (crop to the ink, fit into 20x20, centre in 28x28) and answers with the class it reads, the
// probability of every class and the 28x28 input it gave the network, which we draw enlarged.
//
// The page keeps a few attributes up to date for tests and curious readers:
//   body[data-busy]              "true" while a newer drawing has not been answered yet
//   #prediction[data-strokes]    how many strokes the drawing had when it was answered
//   #prediction[data-source]     "drawing", "upload" or "none"
//   .bar[data-probability]       each class's probability, one .bar per class
"use strict";

const PEN_WIDTH = 20; // canvas pixels: 2 of the 28 MNIST pixels, about MNIST's pen
const THROTTLE_MS = 150; // at most one request per 150 ms while drawing
const MAX_UPLOAD_BYTES = 2 * 1024 * 1024; // the server refuses larger bodies
const SHRUNK_SIDE = 1600; // a larger photo is scaled to this longest side before it is sent

const canvas = document.getElementById("canvas");
const pen = canvas.getContext("2d");
const seen = document.getElementById("seen");
const predictionBox = document.getElementById("prediction");
const predictedClass = document.getElementById("predicted-class");
const confidence = document.getElementById("confidence");
const bars = document.getElementById("probabilities");
const statusLine = document.getElementById("status");
const uploadInput = document.getElementById("upload");

// -- the state of the drawing ---------------------------------------------------------------

let strokes = 0; // strokes since the last Clear
let drawingId = 0; // grows on every Clear: answers about an older drawing are dropped
let activePointer = null; // the pointer (mouse, finger, pen) that is drawing, if any
let lastPoint = null;
let dirty = false; // the drawing changed since the last request
let inFlight = false; // a request is on its way
let lastSentAt = -Infinity;
let timer = null;

// -- drawing with pointer events (mouse, touch and pen alike) ------------------------------------

function clearCanvas() {
  pen.fillStyle = "#000";
  pen.fillRect(0, 0, canvas.width, canvas.height);
  pen.strokeStyle = pen.fillStyle = "#fff";
  pen.lineWidth = PEN_WIDTH;
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

function drawLine(from, to) {
  pen.beginPath();
  pen.moveTo(from.x, from.y);
  pen.lineTo(to.x, to.y);
  pen.stroke();
}

function drawDot(at) {
  pen.beginPath();
  pen.arc(at.x, at.y, PEN_WIDTH / 2, 0, 2 * Math.PI);
  pen.fill();
}

canvas.addEventListener("pointerdown", (event) => {
  if (event.pointerType === "mouse" && event.button !== 0) return; // left button only
  event.preventDefault();
  canvas.setPointerCapture(event.pointerId); // keep the stroke even if it leaves the canvas
  activePointer = event.pointerId;
  lastPoint = canvasPoint(event);
  drawDot(lastPoint); // a tap leaves a dot
  strokes += 1;
  schedulePrediction(false);
});

canvas.addEventListener("pointermove", (event) => {
  if (event.pointerId !== activePointer) return;
  // A fast hand moves further than one event per frame shows: draw every coalesced point.
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
  for (const e of events.length ? events : [event]) {
    const point = canvasPoint(e);
    drawLine(lastPoint, point);
    lastPoint = point;
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

// -- asking the server ----------------------------------------------------------------------

// Send the drawing soon: at once if nothing was sent for THROTTLE_MS (or `now`), else when that
// time has passed; while a request is on its way, once more when it comes back.
function schedulePrediction(now) {
  dirty = true;
  document.body.dataset.busy = "true";
  if (inFlight) return;
  const wait = now ? 0 : Math.max(0, lastSentAt + THROTTLE_MS - performance.now());
  clearTimeout(timer);
  timer = setTimeout(sendDrawing, wait);
}

async function sendDrawing() {
  timer = null;
  if (!dirty || inFlight || strokes === 0) return;
  dirty = false;
  inFlight = true;
  lastSentAt = performance.now();
  const sent = { id: drawingId, strokes };
  try {
    const png = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
    const answer = await postPrediction(png, "image/png");
    if (sent.id === drawingId) showAnswer(answer, "drawing", sent.strokes);
  } catch (error) {
    if (sent.id === drawingId) showError(error, sent.strokes);
  } finally {
    inFlight = false;
    if (dirty) schedulePrediction(false);
    else document.body.dataset.busy = "false";
  }
}

// POST a body to /predict; returns the JSON answer or throws an Error with the server's message.
// Without a content type (a FormData body) the browser writes the multipart one itself.
async function postPrediction(body, contentType) {
  const headers = contentType ? { "Content-Type": contentType } : {};
  const response = await fetch("/predict", { method: "POST", body, headers });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(answer.detail || `the server answered ${response.status}`);
  }
  return answer;
}

// -- showing the answer ---------------------------------------------------------------------

function showAnswer(answer, source, strokeCount) {
  predictedClass.textContent = answer.class_name;
  confidence.textContent = `${percent(answer.probability)} sure`;
  drawSeen(answer.image);
  showBars(answer.class_names, answer.probabilities, answer.class_index);
  predictionBox.dataset.source = source;
  predictionBox.dataset.strokes = String(strokeCount);
  predictionBox.dataset.classIndex = String(answer.class_index);
  setStatus("");
}

function showError(error, strokeCount) {
  predictionBox.dataset.strokes = String(strokeCount);
  setStatus(error.message, true);
}

function resetAnswer() {
  predictedClass.textContent = "?";
  confidence.textContent = "draw a digit";
  predictionBox.dataset.source = "none";
  predictionBox.dataset.strokes = "0";
  delete predictionBox.dataset.classIndex;
  seen.getContext("2d").clearRect(0, 0, seen.width, seen.height);
  for (const bar of bars.children) setBar(bar, 0, false);
  setStatus("");
}

// Draw the network's input (rows of values in [0, 1]) one canvas pixel per value; CSS enlarges
// it with `image-rendering: pixelated`, so each value shows as a square.
function drawSeen(rows) {
  const height = rows.length;
  const width = rows[0].length;
  seen.width = width;
  seen.height = height;
  const image = seen.getContext("2d").createImageData(width, height);
  rows.flat().forEach((value, i) => {
    const grey = Math.round(value * 255);
    image.data.set([grey, grey, grey, 255], 4 * i);
  });
  seen.getContext("2d").putImageData(image, 0, 0);
  document.getElementById("seen-size").textContent = `(${width}×${height})`;
}

// One row per class: its name, a bar as long as its probability and the percentage.
function buildBars(classNames) {
  bars.replaceChildren(
    ...classNames.map((name, i) => {
      const bar = document.createElement("li");
      bar.className = "bar";
      bar.dataset.classIndex = String(i);
      bar.dataset.className = name;
      bar.innerHTML = '<span class="name"></span><span class="track"><span class="fill">' +
        '</span></span><span class="value"></span>';
      bar.querySelector(".name").textContent = name;
      setBar(bar, 0, false);
      return bar;
    }),
  );
}

function showBars(classNames, probabilities, best) {
  if (bars.children.length !== classNames.length) buildBars(classNames);
  probabilities.forEach((p, i) => setBar(bars.children[i], p, i === best));
}

function setBar(bar, probability, isBest) {
  bar.dataset.probability = String(probability);
  bar.classList.toggle("best", isBest);
  // A custom property, not a style attribute: the page's security policy allows only this.
  bar.querySelector(".fill").style.setProperty("--p", String(probability));
  bar.querySelector(".value").textContent = percent(probability);
}

function percent(p) {
  return p >= 0.995 || p < 0.005 ? `${Math.round(p * 100)}%` : `${(p * 100).toFixed(1)}%`;
}

function setStatus(text, isError = false) {
  statusLine.textContent = text;
  statusLine.classList.toggle("error", isError);
}

// -- Clear and Upload -----------------------------------------------------------------------

document.getElementById("clear").addEventListener("click", () => {
  drawingId += 1;
  strokes = 0;
  dirty = false;
  clearTimeout(timer);
  clearCanvas();
  resetAnswer();
  document.body.dataset.busy = inFlight ? "true" : "false";
});

// A photo or scan of a digit goes to the same endpoint as a multipart form; the server prepares
// it like the drawing. The drawing itself is left as it is.
uploadInput.addEventListener("change", async () => {
  const chosen = uploadInput.files[0];
  uploadInput.value = ""; // so that choosing the same file again sends it again
  if (!chosen) return;
  drawingId += 1; // an answer still coming for the drawing must not replace this one
  setStatus(`reading ${chosen.name}…`);
  try {
    const form = new FormData();
    form.append("file", await smallEnough(chosen));
    showAnswer(await postPrediction(form, null), "upload", strokes);
    setStatus(`read from ${chosen.name}`);
  } catch (error) {
    setStatus(error.message, true);
  }
});

// A phone's photo is often larger than the server takes (2 MB). Such a file is decoded here and
// sent again as a JPEG of at most SHRUNK_SIDE pixels a side: the digit is shrunk to 20x20 pixels
// in the end anyway. Smaller files are sent as they are, to be prepared exactly as
// `barenet predict` prepares a file; so is anything the browser cannot decode, and the server
// says what is wrong with it.
async function smallEnough(file) {
  if (file.size <= MAX_UPLOAD_BYTES) return file;
  let bitmap;
  try {
    bitmap = await createImageBitmap(file); // turned upright as the photo's EXIF data says
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

// -- the model card -------------------------------------------------------------------------

// GET /model and show it as label/value pairs; each value carries data-field for tests.
async function loadModelCard() {
  const list = document.getElementById("card-fields");
  try {
    const response = await fetch("/model");
    if (!response.ok) throw new Error(`the server answered ${response.status}`);
    const card = await response.json();
    if (!bars.children.length) buildBars(card.class_names);
    const rows = cardRows(card);
    list.replaceChildren(
      ...rows.flatMap(([field, label, value]) => {
        const dt = document.createElement("dt");
        const dd = document.createElement("dd");
        dt.textContent = label;
        dd.textContent = value;
        dd.dataset.field = field;
        return [dt, dd];
      }),
    );
  } catch (error) {
    list.textContent = `The model card could not be loaded: ${error.message}`;
  }
}

// [field, label, text] for each line of the card.
function cardRows(card) {
  const arch = card.architecture;
  const train = card.training;
  const optimizerSettings = Object.entries(train.optimizer_settings)
    .map(([key, value]) => `${key} ${value}`)
    .join(", ");
  const regularisation = [
    arch.dropout ? `dropout ${arch.dropout}` : "",
    arch.batch_norm ? "batch norm" : "",
    arch.l2 ? `L2 ${arch.l2}` : "",
    arch.l1 ? `L1 ${arch.l1}` : "",
  ].filter(Boolean);
  const epochs = train.epochs === null ? "not trained" : [
    `${train.epochs} epoch${train.epochs === 1 ? "" : "s"}`,
    train.batch_size ? `batches of ${train.batch_size}` : "",
    train.n_train ? `on ${train.n_train.toLocaleString("en")} images` : "",
  ].filter(Boolean).join(", ");
  return [
    ["test_accuracy", "Test accuracy",
      card.test_accuracy === null ? "not recorded" : percent(card.test_accuracy)],
    ["summary", "Network", card.summary],
    ["layers", "Layers", arch.layers.join(" · ")],
    ["parameters", "Parameters", card.parameters.toLocaleString("en")],
    ["optimizer", "Optimizer", `${train.optimizer}, learning rate ${train.learning_rate}` +
      (optimizerSettings ? ` (${optimizerSettings})` : "")],
    ["epochs", "Training", epochs],
    ["schedule", "Schedule", train.schedule || "constant"],
    ["augment", "Augmentation", train.augment || "none"],
    ["regularisation", "Regularisation", regularisation.join(", ") || "none"],
    ["validation_accuracy", "Validation accuracy",
      train.validation_accuracy === null ? "none held out" : percent(train.validation_accuracy)],
    ["classes", "Classes", card.class_names.join(" ")],
    ["file", "File", card.file || "(in memory)"],
  ];
}

// -- start ------------------------------------------------------------------------------------

clearCanvas();
loadModelCard();
