// The "Inside the network" panels: what POST /explain says happened between the pixels and the
// answer, drawn on small canvases.
//
//   #steps    the preparation of the picture, stage by stage (values in [0, 1], grey)
//   #layers   one .layer per layer of the network, first to last: a convolution's output as
//             one small image per feature map, any other layer as a strip of cells, one per unit
//   #logits   each class's score (the last layer's output) and probability
//   #saliency the gradient of the top class's score with respect to each input pixel
//
// Signed values are coloured amber (positive) or blue (negative) on a dark ground, each layer
// on its own scale (its largest absolute value is full colour).

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

export function showInside(answer) {
  $("inside-empty").hidden = true;
  showSteps(answer.steps);
  showLayers(answer.layers);
  showLogits(answer.logits, answer.probabilities, answer.class_names, answer.class_index);
  showSaliency(answer.saliency, answer.class_name);
  $("notes").textContent = answer.notes.length ? `Preparing it: ${answer.notes.join("; ")}.` : "";
}

export function clearInside() {
  $("inside-empty").hidden = false;
  for (const id of ["steps", "layers", "logits"]) $(id).replaceChildren();
  $("notes").textContent = "";
  const saliency = $("saliency");
  saliency.getContext("2d").clearRect(0, 0, saliency.width, saliency.height);
  saliency.setAttribute("aria-label", "Which pixels mattered: nothing drawn yet");
}

// -- colours ----------------------------------------------------------------------------------

// A value in [-1, 1] -> [r, g, b]: dark for 0, amber towards 1, blue towards -1.
function signedColour(t) {
  const a = Math.min(1, Math.abs(t));
  const [r, g, b] = t >= 0 ? [255, 190, 60] : [70, 150, 255];
  return [18 + a * (r - 18), 22 + a * (g - 22), 32 + a * (b - 32)];
}

function greyColour(v) {
  const g = Math.round(Math.min(1, Math.max(0, v)) * 255);
  return [g, g, g];
}

function largestAbs(values) {
  let top = 0;
  for (const v of values) top = Math.max(top, Math.abs(v));
  return top || 1;
}

// A canvas of `width` x `height` cells, each coloured by `colour(value)`; CSS enlarges it.
function pixelCanvas(values, width, height, colour, label) {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", label);
  const context = canvas.getContext("2d");
  const image = context.createImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    const [r, g, b] = i < values.length ? colour(values[i]) : [255, 255, 255];
    image.data.set([r, g, b, i < values.length ? 255 : 0], 4 * i);
  }
  context.putImageData(image, 0, 0);
  return canvas;
}

function figure(canvas, caption, className) {
  const box = document.createElement("figure");
  box.className = className;
  const text = document.createElement("figcaption");
  text.textContent = caption;
  box.append(canvas, text);
  return box;
}

// -- the panels -------------------------------------------------------------------------------

function showSteps(steps) {
  $("steps").replaceChildren(
    ...steps.map((step, i) => {
      const rows = step.image;
      const canvas = pixelCanvas(rows.flat(), rows[0].length, rows.length, greyColour,
        `${step.name}, ${rows[0].length}×${rows.length} pixels`);
      // Shown at STEP_SIDE for its larger side, keeping its proportions (a crop is not square).
      const scale = STEP_SIDE / Math.max(rows.length, rows[0].length);
      canvas.style.setProperty("width", `${Math.round(rows[0].length * scale)}px`);
      canvas.style.setProperty("height", `${Math.round(rows.length * scale)}px`);
      const item = figure(canvas, `${i + 1}. ${step.name}`, "step");
      item.dataset.step = step.name;
      return item;
    }),
  );
}

function showLayers(layers) {
  $("layers").replaceChildren(...layers.map(layerPanel));
}

// One layer: a heading with its kind and shape, then its output.
function layerPanel(layer, index) {
  const panel = document.createElement("div");
  panel.className = "layer";
  panel.dataset.name = layer.name;
  panel.dataset.kind = layer.kind;
  const heading = document.createElement("p");
  heading.className = "layer-name";
  heading.textContent = `${index + 1}. ${layer.name}: ${layer.shape.join("×")} ` +
    (layer.shape.length === 3 ? `(${layer.shape[2]} feature maps)` : "values") +
    (SAME_VALUES[layer.kind] ? ` (${SAME_VALUES[layer.kind]})` : "");
  const scale = largestAbs(layer.values);
  const colour = (v) => signedColour(v / scale);
  const body = document.createElement("div");
  if (layer.shape.length === 3) {
    const [height, width, channels] = layer.shape;
    body.className = "maps";
    for (let c = 0; c < channels; c++) {
      const map = new Array(height * width);
      for (let p = 0; p < height * width; p++) map[p] = layer.values[p * channels + c];
      const canvas = pixelCanvas(map, width, height, colour, `${layer.name}, feature map ${c + 1}`);
      canvas.className = "map";
      body.append(canvas);
    }
  } else {
    body.className = "units";
    const long = layer.values.length > LONG_STRIP;
    const columns = Math.min(long ? 64 : 32, layer.values.length);
    const rows = Math.ceil(layer.values.length / columns);
    const canvas = pixelCanvas(layer.values, columns, rows, colour,
      `${layer.name}: ${layer.values.length} values, largest ${scale.toFixed(2)}`);
    canvas.className = "strip-canvas";
    canvas.style.setProperty("--columns", String(columns));
    canvas.style.setProperty("--rows", String(rows));
    canvas.style.setProperty("--cell", `${long ? CELL / 2 : CELL}px`);
    body.append(canvas);
  }
  panel.append(heading, body);
  return panel;
}

// Each class's logit as a bar from zero (to the right if positive), and its probability.
function showLogits(logits, probabilities, names, best) {
  const scale = largestAbs(logits);
  $("logits").replaceChildren(
    ...logits.map((logit, i) => {
      const row = document.createElement("li");
      row.className = "logit" + (i === best ? " best" : "");
      row.innerHTML = '<span class="name"></span><span class="axis"><span class="fill">' +
        '</span></span><span class="value"></span>';
      row.querySelector(".name").textContent = names[i];
      const fill = row.querySelector(".fill");
      fill.style.setProperty("--v", String(logit / scale));
      fill.classList.toggle("negative", logit < 0);
      row.querySelector(".value").textContent =
        `${logit.toFixed(2)} → ${(probabilities[i] * 100).toFixed(1)}%`;
      return row;
    }),
  );
}

function showSaliency(rows, className) {
  const values = rows.flat();
  const scale = largestAbs(values);
  const saliency = $("saliency");
  saliency.width = rows[0].length;
  saliency.height = rows.length;
  // The square root lifts the many small gradients into view beside the few large ones.
  const colour = (v) => signedColour(Math.sign(v) * Math.sqrt(Math.abs(v) / scale));
  const fresh = pixelCanvas(values, rows[0].length, rows.length, colour, "");
  saliency.getContext("2d").drawImage(fresh, 0, 0);
  saliency.setAttribute("aria-label",
    `Which pixels mattered for reading ${className}: amber raises its score, blue lowers it`);
  $("saliency-caption").textContent = `gradient of the score of ${className}`;
}
