// The history of attempts: each drawing or upload, what the network read, and what it really
// was when the user says so. Kept in this page only.
//
// The tally counts, for each class, how many attempts were of it and how many of those were
// read right. It counts only what it knows:
//   - an attempt the user confirmed ("yes, read right") or corrected ("no, it is a 7");
//   - a sure answer left alone: taken as right (the user would have corrected it);
//   - not an unsure answer, nor a "not a digit", left alone: what it was is not known;
//   - never an attempt the user says was no digit at all.
//
//   #history li[data-read][data-truth][data-said]             one attempt, newest first
//   #tally li[data-class-index][data-right][data-total]       the tally of one class

import { LUT, paint, unpack } from "./pixels.js";

const RIGHT = "right"; // what the user said: "right", a class index as text, "none", or ""
const NONE = "none";

export class History {
  constructor(list, tally, correction, classNames) {
    this.list = list;
    this.tally = tally;
    this.correction = correction; // the answer panel's menu: corrects the newest attempt
    this.names = classNames;
    this.attempts = []; // newest last
    this.correction.addEventListener("change", () => {
      const latest = this.attempts.at(-1);
      if (latest) this.say(latest, this.correction.value);
    });
    this.buildTally();
  }

  // Record the settled answer for drawing `id`: a new attempt, or the newest one updated when
  // the same drawing changed (a stroke more, or one undone).
  record(id, answer, source) {
    let attempt = this.attempts.at(-1);
    if (!attempt || attempt.id !== id) {
      attempt = { id, said: "" };
      this.attempts.push(attempt);
      this.correction.value = "";
    }
    Object.assign(attempt, {
      source,
      read: answer.class_index,
      probability: answer.probability,
      input: unpack(answer.input),
      unsure: answer.unsure,
      notDigit: answer.not_a_digit === true,
    });
    if (attempt.said === String(attempt.read)) attempt.said = RIGHT;
    this.correction.disabled = false;
    this.render();
  }

  // The drawing was cleared: the answer panel's menu has nothing to correct any more.
  release() {
    this.correction.value = "";
    this.correction.disabled = true;
  }

  // `value`: "" (not said), "right", "none" (no digit), or the index of the true class as text.
  say(attempt, value) {
    attempt.said = value === String(attempt.read) ? RIGHT : value;
    if (attempt === this.attempts.at(-1)) {
      this.correction.value = /^\d+$/.test(attempt.said) ? attempt.said : "";
    }
    this.render();
  }

  // The class an attempt really was (a number), or null when it is not known or not a digit.
  truth(attempt) {
    if (attempt.said === RIGHT) return attempt.read;
    if (/^\d+$/.test(attempt.said)) return Number(attempt.said);
    if (attempt.said === "" && !attempt.unsure && !attempt.notDigit) return attempt.read;
    return null;
  }

  render() {
    this.list.replaceChildren(...[...this.attempts].reverse().map((a) => this.item(a)));
    this.updateTally();
  }

  item(attempt) {
    const li = document.createElement("li");
    const truth = this.truth(attempt);
    li.dataset.read = String(attempt.read);
    li.dataset.truth = truth === null ? "" : String(truth);
    li.dataset.said = attempt.said;
    li.className = truth === null ? "unknown" : truth === attempt.read ? "right" : "wrong";
    const [height, width] = attempt.input.shape;
    const thumb = document.createElement("canvas");
    paint(thumb, attempt.input.bytes, 0, width, height, LUT.grey);
    thumb.setAttribute("role", "img");
    const name = this.names[attempt.read];
    thumb.setAttribute("aria-label", `attempt read as ${name}`);
    const text = document.createElement("span");
    text.className = "read";
    const how = attempt.source === "upload" ? "upload" : "drawing";
    const percent = `${Math.round(attempt.probability * 100)}%`;
    text.textContent = attempt.notDigit
      ? `${how}: not a digit (would have read ${name}, ${percent})`
      : `${how}: read ${name} (${percent}${attempt.unsure ? ", unsure" : ""})`;
    const label = document.createElement("label");
    label.textContent = "it was: ";
    const menu = document.createElement("select");
    menu.append(new Option(attempt.unsure || attempt.notDigit ? "(say what it was)"
      : "(not said: counted right)", ""));
    menu.append(new Option(`${name}: read right`, RIGHT));
    this.names.forEach((other, i) => {
      if (i !== attempt.read) menu.append(new Option(`${other}: read wrong`, String(i)));
    });
    menu.append(new Option("not a digit", NONE));
    menu.value = attempt.said;
    menu.addEventListener("change", () => this.say(attempt, menu.value));
    label.append(menu);
    li.append(thumb, text, label);
    return li;
  }

  buildTally() {
    this.tally.replaceChildren(...this.names.map((name, i) => {
      const li = document.createElement("li");
      li.dataset.classIndex = String(i);
      const label = document.createElement("span");
      label.className = "class";
      label.textContent = name;
      const count = document.createElement("span");
      count.className = "count";
      li.append(label, count);
      return li;
    }));
    this.updateTally();
  }

  updateTally() {
    const right = this.names.map(() => 0);
    const total = this.names.map(() => 0);
    for (const attempt of this.attempts) {
      const truth = this.truth(attempt);
      if (truth === null) continue;
      total[truth] += 1;
      if (truth === attempt.read) right[truth] += 1;
    }
    for (const li of this.tally.children) {
      const i = Number(li.dataset.classIndex);
      li.dataset.right = String(right[i]);
      li.dataset.total = String(total[i]);
      li.querySelector(".count").textContent = total[i] ? `${right[i]}/${total[i]}` : "–";
      li.setAttribute("aria-label", `${this.names[i]}: ` +
        (total[i] ? `${right[i]} of ${total[i]} read right` : "no attempt yet"));
    }
  }
}
