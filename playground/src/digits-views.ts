// The Digits tab's pictures: the ten class probabilities as bars, the
// first-layer filters as images, and misclassified held-out digits.
import { CLASSES, PIXELS, type Digits, type DigitSet } from './digits-data.js';
import { KERNEL } from './digits-model.js';
import type { Mistake } from './digits-session.js';
import { drawDigit } from './digits-pad.js';
import { h } from './dom.js';
import { paint } from './heatmap.js';

/** Ten rows (digit, bar, percentage); the most probable is marked. */
export class ProbBars {
  readonly element: HTMLElement;
  readonly guess: HTMLOutputElement;
  private readonly bars: HTMLElement[] = [];
  private readonly texts: HTMLElement[] = [];
  private readonly rows: HTMLElement[] = [];

  constructor() {
    this.guess = h('output', { class: 'digit-guess', id: 'digit-guess', 'aria-live': 'polite' }, '–');
    const list = h('ol', { class: 'probs', id: 'digit-probs', start: 0, 'aria-label': 'Class probabilities' });
    for (let d = 0; d < CLASSES; d++) {
      const bar = h('span', { class: 'prob-bar' }), text = h('span', { class: 'prob' }, '–');
      const row = h('li', { 'data-digit': d }, h('span', { class: 'prob-digit' }, String(d)), h('span', { class: 'prob-track' }, bar), text);
      this.bars.push(bar);
      this.texts.push(text);
      this.rows.push(row);
      list.append(row);
    }
    this.element = h('div', { class: 'prob-box' }, h('div', { class: 'guess-box' }, h('span', { class: 'label' }, 'Prediction'), this.guess), list);
  }

  /** Probabilities (null: nothing drawn). */
  show(p: ArrayLike<number> | null): void {
    let best = -1;
    for (let d = 0; d < CLASSES; d++) {
      const v = p ? p[d] : 0;
      if (p && (best < 0 || v > p[best])) best = d;
      this.bars[d].style.width = `${(100 * v).toFixed(1)}%`;
      this.texts[d].textContent = p ? `${(100 * v).toFixed(1)}%` : '–';
    }
    this.rows.forEach((r, d) => r.classList.toggle('best', d === best));
    this.guess.textContent = p ? `${best} (${(100 * p[best]).toFixed(0)}%)` : 'draw a digit';
  }
}

/** The first-layer filters [5, 5, 1, F] (HWIO), each scaled to its own largest |weight|: orange < 0 < blue. */
export function drawFilters(into: HTMLElement, w: Float32Array | null, filters: number): void {
  if (!w || w.length !== KERNEL * KERNEL * filters) { into.replaceChildren(); return; }
  const cells: HTMLElement[] = [];
  for (let c = 0; c < filters; c++) {
    let m = 1e-12;
    for (let i = 0; i < KERNEL * KERNEL; i++) m = Math.max(m, Math.abs(w[i * filters + c]));
    const canvas = h('canvas', { class: 'filter', width: KERNEL, height: KERNEL, title: `filter ${c + 1}: largest |weight| ${m.toPrecision(3)}` });
    const g = canvas.getContext('2d')!, img = g.createImageData(KERNEL, KERNEL);
    paint(img, w, { scale: m, stride: filters, offset: c });
    g.putImageData(img, 0, 0);
    cells.push(canvas);
  }
  into.replaceChildren(...cells);
}

/** Misclassified held-out digits: the image, "true → predicted" and the net's confidence. */
export function drawMistakes(into: HTMLElement, mistakes: readonly Mistake[], heldOut: DigitSet | null, digits: Digits | null): void {
  if (!heldOut || !digits) { into.replaceChildren(); return; }
  const ink = new Float32Array(PIXELS);
  into.replaceChildren(...mistakes.map((m) => {
    const k = heldOut.index[m.index];
    for (let p = 0; p < PIXELS; p++) ink[p] = digits.pixels[k * PIXELS + p] / 255;
    const canvas = h('canvas', { class: 'mistake-img', width: 28, height: 28 });
    drawDigit(canvas, ink);
    return h('figure', { class: 'mistake', title: `held-out digit ${m.index}: a ${m.label}, read as ${m.predicted} with ${(100 * m.confidence).toFixed(0)}% confidence` },
      canvas, h('figcaption', {}, `${m.label} → ${m.predicted}`, h('small', {}, ` ${(100 * m.confidence).toFixed(0)}%`)));
  }));
}
