// The history of attempts: each drawing or upload, what the network read, and what it really
// was when the user says "that was wrong, it is a ...". A tally counts, for each class, how many
// attempts were of it and how many of those were read right. Kept in this page only.
//
//   #history li[data-read][data-truth]         one attempt, newest first
//   #tally td[data-class-index][data-right][data-total]   the tally of one class

export class History {
  constructor(list, tally, correction, classNames) {
    this.list = list;
    this.tally = tally;
    this.correction = correction; // the answer panel's menu: corrects the newest attempt
    this.names = classNames;
    this.attempts = []; // newest last
    this.correction.addEventListener("change", () => {
      const latest = this.attempts.at(-1);
      if (latest) this.correct(latest, this.correction.value);
    });
    this.buildTally();
  }

  // Record the settled answer for drawing `id`: a new attempt, or the newest one updated when
  // the same drawing grew by a stroke.
  record(id, answer, source) {
    let attempt = this.attempts.at(-1);
    if (!attempt || attempt.id !== id) {
      attempt = { id, truth: null };
      this.attempts.push(attempt);
      this.correction.value = "";
    }
    Object.assign(attempt, {
      source,
      read: answer.class_index,
      probability: answer.probability,
      input: answer.input,
      unsure: answer.unsure,
    });
    this.correction.disabled = false;
    this.render();
  }

  // `value` is a class index as text, or "" for "read right".
  correct(attempt, value) {
    const truth = value === "" ? null : Number(value);
    attempt.truth = truth === attempt.read ? null : truth;
    if (attempt === this.attempts.at(-1)) {
      this.correction.value = attempt.truth === null ? "" : String(attempt.truth);
    }
    this.render();
  }

  render() {
    this.list.replaceChildren(...[...this.attempts].reverse().map((a) => this.item(a)));
    this.updateTally();
  }

  item(attempt) {
    const li = document.createElement("li");
    li.dataset.read = String(attempt.read);
    li.dataset.truth = String(attempt.truth ?? attempt.read);
    li.className = attempt.truth === null ? "right" : "wrong";
    const rows = attempt.input;
    const thumb = document.createElement("canvas");
    thumb.width = rows[0].length;
    thumb.height = rows.length;
    thumb.setAttribute("role", "img");
    thumb.setAttribute("aria-label", `attempt read as ${this.names[attempt.read]}`);
    const context = thumb.getContext("2d");
    const image = context.createImageData(thumb.width, thumb.height);
    rows.flat().forEach((v, i) => {
      const g = Math.round(v * 255);
      image.data.set([g, g, g, 255], 4 * i);
    });
    context.putImageData(image, 0, 0);
    const text = document.createElement("span");
    text.className = "read";
    const how = attempt.source === "upload" ? "upload" : "drawing";
    text.textContent = `${how}: read ${this.names[attempt.read]} ` +
      `(${Math.round(attempt.probability * 100)}%${attempt.unsure ? ", unsure" : ""})`;
    const label = document.createElement("label");
    label.textContent = attempt.truth === null ? "right? " : "wrong: it is a ";
    const menu = document.createElement("select");
    menu.append(new Option("yes, read right", ""));
    this.names.forEach((name, i) => {
      if (i !== attempt.read) menu.append(new Option(`no, it is a ${name}`, String(i)));
    });
    menu.value = attempt.truth === null ? "" : String(attempt.truth);
    menu.addEventListener("change", () => this.correct(attempt, menu.value));
    label.append(menu);
    li.append(thumb, text, label);
    return li;
  }

  buildTally() {
    const head = this.tally.tHead.rows[0];
    const body = this.tally.tBodies[0].rows[0];
    this.names.forEach((name, i) => {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = name;
      head.append(th);
      const td = document.createElement("td");
      td.dataset.classIndex = String(i);
      body.append(td);
    });
    this.updateTally();
  }

  updateTally() {
    const right = this.names.map(() => 0);
    const total = this.names.map(() => 0);
    for (const a of this.attempts) {
      const truth = a.truth ?? a.read;
      total[truth] += 1;
      if (a.truth === null) right[truth] += 1;
    }
    for (const td of this.tally.querySelectorAll("td[data-class-index]")) {
      const i = Number(td.dataset.classIndex);
      td.dataset.right = String(right[i]);
      td.dataset.total = String(total[i]);
      td.textContent = total[i] ? `${right[i]}/${total[i]}` : "–";
    }
  }
}
