// The "Inside the network" panels: what POST /explain?compact=true says happened between the
// pixels and the answer, drawn on small canvases.
//
//   #steps    the preparation of the picture, stage by stage (values in [0, 1], grey)
//   #layers   one .layer per layer of the network, first to last, headed by its name in words
//             ("Convolution 1: 32 filters 3×3") and its colour scale with numbers: a
//             convolution's output as one numbered image per feature map, any other layer as a
//             strip of cells, one per unit (the last one labelled with the classes)
//   #logits   each class's score (the last layer's output) and probability
//   #saliency the gradient of the top class's score with respect to each input pixel
//
// Signed values are coloured amber (positive) or blue (negative) on a dark ground, each layer
// on its own scale (its largest absolute value is full colour).
//
// Staying smooth with a CNN (288 feature maps for the CNN of `--model cnn`): the panels are
// built once per network (Clear hides them, it does not throw them away) and then only
// repainted; a layer is painted only when it is on screen (an IntersectionObserver says which
// are), at most once per animation frame and only with the newest answer, so answers that come
// while a frame is pending cost nothing. A layer not yet painted with the newest answer is
// hidden (.stale) rather than showing an older one.

import { LUT, number, paint, unpack, valueAt, signedColour } from "./pixels.js";

const $ = (id) => document.getElementById(id);
// A strip of up to LONG_STRIP units has 32 of CELL pixels a row; a longer one (a flattened
// stack of feature maps) 64 of half that, so it stays a strip rather than a wall.
const CELL = 12;
const LONG_STRIP = 256;
const STEP_SIDE = 84; // CSS pixels of the larger side of a stage's picture

// Layers that pass their input on unchanged when predicting, and what they do instead.
const SAME_VALUES = {
  flatten: "the same values, laid out in one row",
  dropout: "the same values: dropout only acts while training",
};

let panels = null; // the built layer panels: {key, list: [{root, layer, maps, strip, scale}]}
let newest = null; // the newest answer's layers, and which of them are painted
let frame = 0; // a pending animation frame
const onScreen = new Set(); // indices of the layer panels in view (or nearly)
const watcher = new IntersectionObserver(
  (entries) => {
    for (const entry of entries) {
      const index = Number(entry.target.dataset.index);
      if (entry.isIntersecting) onScreen.add(index);
      else onScreen.delete(index);
    }
    schedulePaint();
  },
  { rootMargin: "200px 0px" },
);

export function showInside(answer) {
  $("inside-empty").hidden = true;
  showSteps(answer.steps);
  showLogits(answer.logits, answer.probabilities, answer.class_names, answer.class_index);
  showSaliency(answer.saliency, answer.class_name);
  $("notes").textContent = answer.notes.length ? `Preparing it: ${answer.notes.join("; ")}.` : "";
  buildLayers(answer.layers, answer.class_names);
  newest = { layers: answer.layers, painted: new Set() };
  for (const panel of panels.list) panel.root.classList.add("stale");
  $("layers").hidden = false;
  schedulePaint();
}

export function clearInside() {
  $("inside-empty").hidden = false;
  for (const id of ["steps", "logits"]) $(id).replaceChildren();
  $("layers").hidden = true; // kept for the next answer: building 288 maps again takes a while
  newest = null;
  $("notes").textContent = "";
  const saliency = $("saliency");
  saliency.getContext("2d").clearRect(0, 0, saliency.width, saliency.height);
  saliency.setAttribute("aria-label", "Which pixels mattered: nothing drawn yet");
  $("saliency-caption").textContent = "gradient of the top class's score";
  $("saliency-scale").hidden = true;
}

// -- the layers: built once per network, painted when on screen -------------------------------

function buildLayers(layers, classNames) {
  const key = layers.map((l) => `${l.name}:${l.shape.join("x")}`).join(" ");
  if (panels && panels.key === key) return;
  watcher.disconnect();
  onScreen.clear();
  const list = layers.map((layer, index) => layerPanel(layer, index, index === layers.length - 1
    && layer.shape.length === 1 && layer.shape[0] === classNames.length ? classNames : null));
  $("layers").replaceChildren(...list.map((panel) => panel.root));
  for (const panel of list) watcher.observe(panel.root);
  panels = { key, list };
}

// One layer's panel: a heading in words, its colour scale, and its output's canvases (empty).
function layerPanel(layer, index, classNames) {
  const root = document.createElement("div");
  root.className = "layer";
  root.dataset.name = layer.name;
  root.dataset.kind = layer.kind;
  root.dataset.index = String(index);
  const head = document.createElement("div");
  head.className = "layer-head";
  const heading = document.createElement("p");
  heading.className = "layer-name";
  const maps = layer.shape.length === 3;
  heading.textContent = `${index + 1}. ${layer.title} → ${layer.shape.join("×")}` +
    (maps ? ` (${layer.shape[2]} feature maps)` : ` (${layer.shape.reduce((a, b) => a * b)} values)`) +
    (SAME_VALUES[layer.kind] ? `: ${SAME_VALUES[layer.kind]}` : "");
  const scale = document.createElement("div");
  scale.className = "scale";
  head.append(heading, scale);
  const body = document.createElement("div");
  const panel = { root, layer, scale, maps: null, strip: null, cells: null };
  if (maps) {
    body.className = "maps";
    panel.maps = [];
    for (let c = 0; c < layer.shape[2]; c++) {
      const cell = document.createElement("figure");
      cell.className = "map-cell";
      const canvas = document.createElement("canvas");
      canvas.className = "map";
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", `${layer.title}, feature map ${c + 1}`);
      const caption = document.createElement("figcaption");
      caption.textContent = String(c + 1);
      cell.append(canvas, caption);
      body.append(cell);
      panel.maps.push(canvas);
    }
  } else if (classNames) {
    // The last layer: one labelled cell per class.
    body.className = "class-strip";
    panel.cells = classNames.map((name) => {
      const cell = document.createElement("span");
      cell.className = "class-cell";
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      const label = document.createElement("span");
      label.className = "label";
      label.textContent = name;
      cell.append(swatch, label);
      body.append(cell);
      return swatch;
    });
  } else {
    body.className = "units";
    const count = layer.shape.reduce((a, b) => a * b);
    const long = count > LONG_STRIP;
    const columns = Math.min(long ? 64 : 32, count);
    const rows = Math.ceil(count / columns);
    const canvas = document.createElement("canvas");
    canvas.className = "strip-canvas";
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", `${layer.title}: ${count} values`);
    canvas.style.setProperty("--columns", String(columns));
    canvas.style.setProperty("--rows", String(rows));
    canvas.style.setProperty("--cell", `${long ? CELL / 2 : CELL}px`);
    body.append(canvas);
    panel.strip = { canvas, columns, rows, count };
  }
  root.append(head, body);
  return panel;
}

function schedulePaint() {
  if (!frame) frame = requestAnimationFrame(paintOnScreen);
}

function paintOnScreen() {
  frame = 0;
  if (!newest || !panels) return;
  for (const index of onScreen) {
    if (newest.painted.has(index)) continue;
    paintLayer(panels.list[index], newest.layers[index]);
    panels.list[index].root.classList.remove("stale");
    newest.painted.add(index);
  }
}

function paintLayer(panel, layer) {
  const values = unpack(layer.packed);
  const lut = values.signed ? LUT.signed : LUT.unsigned;
  showScale(panel.scale, values);
  if (panel.maps) {
    const [channels, height, width] = values.shape; // map after map
    for (let c = 0; c < channels; c++) {
      paint(panel.maps[c], values.bytes, c * height * width, width, height, lut);
    }
  } else if (panel.cells) {
    panel.cells.forEach((swatch, i) => {
      const t = values.scale ? valueAt(values, i) / values.scale : 0;
      swatch.style.setProperty("--colour", `rgb(${signedColour(t).map(Math.round).join(",")})`);
      swatch.title = number(valueAt(values, i));
    });
  } else {
    const { canvas, columns, rows, count } = panel.strip;
    paint(canvas, values.bytes, 0, columns, rows, lut, count);
  }
}

// A colour scale with its numbers: "−2.31 [blue…dark…amber] +2.31", or from 0 when no value is
// negative.
function showScale(element, values) {
  const top = values.scale;
  element.replaceChildren(...[
    ["low", values.signed ? number(-top) : "0"],
    [values.signed ? "ramp signed" : "ramp", ""],
    ["high", `${values.signed ? "+" : ""}${number(top)}`],
  ].map(([className, text]) => {
    const span = document.createElement("span");
    span.className = className;
    span.textContent = text;
    return span;
  }));
  element.title = values.signed
    ? `blue: negative, down to ${number(-top)}; dark: 0; amber: positive, up to ${number(top)}`
    : `dark: 0; amber: up to ${number(top)}`;
}

// -- the preparation, the scores, the saliency --------------------------------------------------

function showSteps(steps) {
  const box = $("steps");
  if (box.children.length !== steps.length) {
    box.replaceChildren(...steps.map(() => {
      const item = document.createElement("figure");
      item.className = "step";
      const canvas = document.createElement("canvas");
      canvas.setAttribute("role", "img");
      item.append(canvas, document.createElement("figcaption"));
      return item;
    }));
  }
  steps.forEach((step, i) => {
    const item = box.children[i];
    const canvas = item.querySelector("canvas");
    const picture = unpack(step.image);
    const [height, width] = picture.shape;
    paint(canvas, picture.bytes, 0, width, height, LUT.grey);
    canvas.setAttribute("aria-label", `${step.name}, ${width}×${height} pixels`);
    // Shown at STEP_SIDE for its larger side, keeping its proportions (a crop is not square).
    const scale = STEP_SIDE / Math.max(height, width);
    canvas.style.setProperty("width", `${Math.round(width * scale)}px`);
    canvas.style.setProperty("height", `${Math.round(height * scale)}px`);
    item.querySelector("figcaption").textContent = `${i + 1}. ${step.name}`;
    item.dataset.step = step.name;
  });
}

// Each class's logit as a bar from zero (to the right if positive), and its probability.
function showLogits(logits, probabilities, names, best) {
  const list = $("logits");
  if (list.children.length !== logits.length) {
    list.replaceChildren(...logits.map((_, i) => {
      const row = document.createElement("li");
      row.innerHTML = '<span class="name"></span><span class="axis"><span class="fill">' +
        '</span></span><span class="value"></span>';
      row.querySelector(".name").textContent = names[i];
      return row;
    }));
  }
  let scale = 0;
  for (const logit of logits) scale = Math.max(scale, Math.abs(logit));
  logits.forEach((logit, i) => {
    const row = list.children[i];
    row.className = "logit" + (i === best ? " best" : "");
    const fill = row.querySelector(".fill");
    fill.style.setProperty("--v", String(logit / (scale || 1)));
    fill.classList.toggle("negative", logit < 0);
    row.querySelector(".value").textContent =
      `${logit.toFixed(2)} → ${(probabilities[i] * 100).toFixed(1)}%`;
  });
}

function showSaliency(packed, className) {
  const values = unpack(packed);
  const [height, width] = values.shape;
  paint($("saliency"), values.bytes, 0, width, height, LUT.sqrtSigned);
  $("saliency").setAttribute("aria-label",
    `Which pixels mattered for reading ${className}: amber raises its score, blue lowers it`);
  $("saliency-caption").textContent = `gradient of the score of ${className}`;
  const scale = $("saliency-scale");
  showScale(scale, { ...values, signed: true });
  scale.querySelector(".ramp").classList.add("sqrt");
  scale.hidden = false;
}
