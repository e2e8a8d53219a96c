// The drawing pad: a canvas a person draws a digit on with the mouse, a pen
// or a finger (pointer events; touch-action: none keeps the page from
// scrolling under the finger). Each change hands the ink, as an MNIST-like
// 28×28 image (digits-preprocess.ts), to `onChange`; a preview shows that
// image as the net sees it.
import { PIXELS, SIDE } from './digits-data.js';
import { toMnist } from './digits-preprocess.js';
import { h } from './dom.js';

/** The pad's drawing resolution (CSS may show it smaller at phone width). */
export const PAD = 280;
/** Stroke width in pad pixels: about MNIST's stroke in its 20-pixel box when the digit fills the pad's height. */
const STROKE = 20;

export class DrawingPad {
  readonly canvas: HTMLCanvasElement;
  readonly preview: HTMLCanvasElement;
  private readonly g: CanvasRenderingContext2D;
  private last: { x: number; y: number } | null = null;
  private drawing = -1;
  /** The latest 28×28 image in [0, 1], or null when the pad is blank. */
  image: Float32Array | null = null;

  constructor(private readonly onChange: (image: Float32Array | null) => void) {
    this.canvas = h('canvas', {
      class: 'digit-pad', id: 'digit-pad', width: PAD, height: PAD, role: 'img',
      'aria-label': 'Drawing pad: draw a digit with the mouse, a pen or a finger',
    });
    this.preview = h('canvas', { class: 'digit-preview', id: 'digit-preview', width: SIDE, height: SIDE, role: 'img', 'aria-label': 'The drawing as the network sees it (28 × 28)' });
    this.g = this.canvas.getContext('2d', { willReadFrequently: true })!;
    this.g.lineCap = 'round';
    this.g.lineJoin = 'round';
    this.g.lineWidth = STROKE;
    this.g.strokeStyle = '#000';
    this.g.fillStyle = '#000';
    const c = this.canvas;
    c.addEventListener('pointerdown', (e) => {
      if (this.drawing >= 0 || (e.pointerType === 'mouse' && e.button !== 0)) return;
      e.preventDefault();
      this.drawing = e.pointerId;
      try { c.setPointerCapture(e.pointerId); } catch { /* a synthetic event's pointer cannot be captured */ }
      this.last = null;
      this.to(e);
    });
    c.addEventListener('pointermove', (e) => {
      if (e.pointerId !== this.drawing) return;
      e.preventDefault();
      // Coalesced events: a fast stroke keeps its shape between frames.
      const all = e.getCoalescedEvents?.() ?? [];
      for (const p of all.length ? all : [e]) this.to(p, false);
      this.changed();
    });
    const end = (e: PointerEvent) => {
      if (e.pointerId !== this.drawing) return;
      this.drawing = -1;
      this.last = null;
      this.changed();
    };
    c.addEventListener('pointerup', end);
    c.addEventListener('pointercancel', end);
    this.drawPreview();
  }

  /** Pad coordinates of a pointer event (the canvas may be scaled by CSS). */
  private at(e: PointerEvent): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return { x: ((e.clientX - r.left) / Math.max(r.width, 1)) * PAD, y: ((e.clientY - r.top) / Math.max(r.height, 1)) * PAD };
  }

  private to(e: PointerEvent, notify = true): void {
    const p = this.at(e), g = this.g;
    if (this.last) {
      g.beginPath();
      g.moveTo(this.last.x, this.last.y);
      g.lineTo(p.x, p.y);
      g.stroke();
    } else {
      g.beginPath();
      g.arc(p.x, p.y, STROKE / 2, 0, 2 * Math.PI);
      g.fill();
    }
    this.last = p;
    if (notify) this.changed();
  }

  /** The ink (alpha) as values in [0, 1], row-major PAD × PAD. */
  ink(): Float32Array {
    const a = this.g.getImageData(0, 0, PAD, PAD).data, out = new Float32Array(PAD * PAD);
    for (let i = 0; i < out.length; i++) out[i] = a[4 * i + 3] / 255;
    return out;
  }

  private changed(): void {
    this.image = toMnist(this.ink(), PAD, PAD);
    this.drawPreview();
    this.onChange(this.image);
  }

  clear(): void {
    this.g.clearRect(0, 0, PAD, PAD);
    this.last = null;
    this.changed();
  }

  /** Shows a 28×28 image in [0, 1] (or blank) on the preview canvas: ink dark on white, as on the pad. */
  private drawPreview(): void {
    drawDigit(this.preview, this.image);
  }
}

/** A 28×28 image in [0, 1] (1 = ink) on a 28×28 canvas, dark ink on white. */
export function drawDigit(canvas: HTMLCanvasElement, image: ArrayLike<number> | null, offset = 0): void {
  const g = canvas.getContext('2d')!, img = g.createImageData(SIDE, SIDE);
  for (let p = 0; p < PIXELS; p++) {
    const v = 255 - Math.round(255 * Math.min(1, Math.max(0, image ? image[offset + p] : 0)));
    img.data.set([v, v, v, 255], 4 * p);
  }
  g.putImageData(img, 0, 0);
}
