// The Sequence tab's pictures: the answer as it is generated (the tokens in
// the order the model writes them, least-significant digit first, and the
// sum in reading order), and one attention heatmap per head of every block
// (query positions down, key positions across, token labels on both axes).
import { ANSWER_LEN, PROMPT_LEN, tokenText } from '../../examples/addition/data.js';
import { h } from './dom.js';
import type { AttentionMaps } from './sequence-generate.js';

/** The answer slots: the generated tokens as they arrive, and the digits read the usual way round. */
export class AnswerView {
  readonly element: HTMLElement;
  /** The five slots in generation order (10⁰ first). */
  readonly tokens: HTMLOutputElement;
  /** The sum in reading order, and whether it is right. */
  readonly reading: HTMLOutputElement;
  readonly verdict: HTMLOutputElement;

  constructor() {
    this.tokens = h('output', { class: 'seq-tokens', id: 'seq-tokens', 'aria-live': 'polite', 'aria-label': 'Answer tokens as generated, least significant digit first' });
    this.reading = h('output', { class: 'seq-reading', id: 'seq-reading', 'aria-label': 'The answer in reading order' }, '–');
    this.verdict = h('output', { class: 'seq-verdict', id: 'seq-verdict' });
    this.element = h('div', { class: 'seq-answer' },
      h('span', { class: 'label' }, 'Generated, token by token (least significant first)'), this.tokens,
      h('span', { class: 'label' }, 'Read as'), h('div', { class: 'seq-reading-row' }, this.reading, this.verdict));
    this.show(null, [], null);
  }

  /** The prompt (null: none typed), the answer tokens so far, and when complete the true sum. */
  show(prompt: readonly number[] | null, answer: readonly number[], truth: number | null): void {
    const slots = Array.from({ length: ANSWER_LEN }, (_, i) => h('span', { class: `seq-slot${i < answer.length ? ' filled' : ''}`, title: `digit of 10^${i}` },
      i < answer.length ? tokenText(answer[i]) : '·'));
    this.tokens.replaceChildren(h('span', { class: 'seq-prompt' }, prompt ? prompt.map(tokenText).join('') : '—'), ...slots);
    this.tokens.dataset.count = String(answer.length);
    // Reading order: the digits so far, most significant first; those not yet made are dots.
    const digits = Array.from({ length: ANSWER_LEN }, (_, i) => (i < answer.length ? tokenText(answer[i]) : '·')).reverse().join('');
    this.reading.textContent = prompt ? digits : '–';
    if (truth === null || answer.length < ANSWER_LEN) { this.verdict.textContent = ''; this.verdict.className = 'seq-verdict'; return; }
    const value = Number(digits);
    this.verdict.textContent = value === truth ? `= ${truth} ✓` : `✗ (the sum is ${truth})`;
    this.verdict.className = `seq-verdict ${value === truth ? 'right' : 'wrong'}`;
  }
}

const CELL = 16, MARGIN = 18;

/** Attention weight in [0, 1] → white to dark blue (the page's positive colour). */
function shade(v: number): [number, number, number] {
  const t = Math.max(0, Math.min(1, Number.isFinite(v) ? v : 0));
  return [255 + (8 - 255) * t, 255 + (60 - 255) * t, 255 + (110 - 255) * t];
}

/**
 * One canvas per head: cell (q, k) is how much query position q attends to
 * key position k (each row sums to 1; causal, so keys after q are 0). The
 * labels are the tokens; a line marks where the answer starts.
 */
export function drawAttention(into: HTMLElement, maps: AttentionMaps | null, labels: readonly string[]): void {
  if (!maps) { into.replaceChildren(); return; }
  const S = maps.seq, dpr = devicePixelRatio || 1, side = MARGIN + S * CELL + 2;
  const blocks: HTMLElement[] = [];
  for (let l = 0; l < maps.layers; l++) {
    const heads: HTMLElement[] = [];
    for (let hd = 0; hd < maps.heads; hd++) {
      const canvas = h('canvas', {
        class: 'seq-attn', width: Math.round(side * dpr), height: Math.round(side * dpr),
        role: 'img', 'aria-label': `Block ${l + 1}, head ${hd + 1}: attention weights, query positions down, key positions across`,
      });
      canvas.style.width = `${side}px`;
      const g = canvas.getContext('2d')!;
      g.scale(dpr, dpr);
      g.fillStyle = '#fff';
      g.fillRect(0, 0, side, side);
      const w = maps.weights[l], base = hd * S * S;
      for (let q = 0; q < S; q++) {
        for (let k = 0; k < S; k++) {
          const [r, gg, b] = shade(w[base + q * S + k]);
          g.fillStyle = `rgb(${r | 0},${gg | 0},${b | 0})`;
          g.fillRect(MARGIN + k * CELL, MARGIN + q * CELL, CELL, CELL);
        }
      }
      // The answer starts after '=': a line between the prompt and the answer digits, on both axes.
      const cut = MARGIN + PROMPT_LEN * CELL;
      g.strokeStyle = '#e67e22';
      g.lineWidth = 1;
      g.beginPath();
      g.moveTo(cut, MARGIN); g.lineTo(cut, MARGIN + S * CELL);
      g.moveTo(MARGIN, cut); g.lineTo(MARGIN + S * CELL, cut);
      g.stroke();
      g.fillStyle = '#333';
      g.font = '11px ui-monospace, monospace';
      g.textAlign = 'center';
      g.textBaseline = 'middle';
      for (let i = 0; i < S; i++) {
        g.fillText(labels[i] ?? '?', MARGIN + i * CELL + CELL / 2, MARGIN / 2);      // keys across the top
        g.fillText(labels[i] ?? '?', MARGIN / 2, MARGIN + i * CELL + CELL / 2);      // queries down the side
      }
      heads.push(h('figure', { class: 'seq-head' }, canvas, h('figcaption', {}, `head ${hd + 1}`)));
    }
    blocks.push(h('div', { class: 'seq-block' }, h('h3', {}, `Block ${l + 1}`), h('div', { class: 'seq-heads' }, ...heads)));
  }
  into.replaceChildren(...blocks);
}
