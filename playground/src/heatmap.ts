// Heatmaps on canvas: the output over the input square (with the data points
// on top), and small thumbnails of one neuron or one feature.
import type { Points, Problem } from './data.js';

type RGB = [number, number, number];
/** Negative / class 0 (orange), zero (light grey), positive / class 1 (blue). */
const NEG: RGB = [245, 147, 34];
const MID: RGB = [232, 234, 235];
const POS: RGB = [8, 119, 189];

/** Colour of a value in [-1, 1] (clamped). */
export function colour(v: number, into: RGB = [0, 0, 0]): RGB {
  const t = Number.isFinite(v) ? Math.max(-1, Math.min(1, v)) : 0;
  const end = t < 0 ? NEG : POS, a = Math.abs(t);
  into[0] = MID[0] + (end[0] - MID[0]) * a;
  into[1] = MID[1] + (end[1] - MID[1]) * a;
  into[2] = MID[2] + (end[2] - MID[2]) * a;
  return into;
}

export const css = (c: RGB) => `rgb(${c[0] | 0},${c[1] | 0},${c[2] | 0})`;

/**
 * Writes res × res values into `img` (row 0 at the top). `scale` divides the
 * values first (thumbnails of unbounded activations); `discretize` shows
 * only the sign; `fade` blends towards white so points drawn on top stand out.
 */
export function paint(img: ImageData, values: ArrayLike<number>, opts: { scale?: number; discretize?: boolean; fade?: number; stride?: number; offset?: number } = {}): void {
  const n = img.width * img.height, d = img.data, s = opts.scale ?? 1, fade = opts.fade ?? 0, stride = opts.stride ?? 1, off = opts.offset ?? 0;
  const c: RGB = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    let v = values[i * stride + off] / s;
    if (opts.discretize) v = v > 0 ? 1 : v < 0 ? -1 : 0;
    colour(v, c);
    d[4 * i] = c[0] + (255 - c[0]) * fade;
    d[4 * i + 1] = c[1] + (255 - c[1]) * fade;
    d[4 * i + 2] = c[2] + (255 - c[2]) * fade;
    d[4 * i + 3] = 255;
  }
}

/** The largest |value| (at least a small floor, so an all-zero map stays grey). */
function maxAbs(values: ArrayLike<number>, stride = 1, offset = 0, count = values.length): number {
  let m = 1e-6;
  for (let i = 0; i < count; i++) { const a = Math.abs(values[i * stride + offset]); if (a > m) m = a; }
  return m;
}

/** The output heatmap: a res × res grid scaled to the canvas, and the points on top. */
export class Heatmap {
  private readonly small: HTMLCanvasElement;
  private readonly img: ImageData;
  private last: Float32Array | null = null;

  constructor(readonly canvas: HTMLCanvasElement, readonly res: number, readonly extent: number) {
    this.small = document.createElement('canvas');
    this.small.width = this.small.height = res;
    this.img = this.small.getContext('2d')!.createImageData(res, res);
  }

  /** Pixel size the canvas should have for its CSS size on this screen. */
  private fit(): number {
    const cssSize = this.canvas.clientWidth || 300, px = Math.round(cssSize * (devicePixelRatio || 1));
    if (this.canvas.width !== px) { this.canvas.width = px; this.canvas.height = px; }
    return px;
  }

  draw(values: Float32Array | null, opts: { discretize: boolean; train: Points; test: Points; showTest: boolean; problem: Problem }): void {
    if (values) this.last = values;
    const px = this.fit(), g = this.canvas.getContext('2d')!;
    if (this.last) {
      paint(this.img, this.last, { discretize: opts.discretize, fade: 0.25 });
      this.small.getContext('2d')!.putImageData(this.img, 0, 0);
      g.imageSmoothingEnabled = !opts.discretize;
      g.drawImage(this.small, 0, 0, px, px);
    } else {
      g.fillStyle = css(MID);
      g.fillRect(0, 0, px, px);
    }
    const r = Math.max(2, px / 110), toPx = (v: number) => ((v + this.extent) / (2 * this.extent)) * px;
    const dots = (p: Points, ring: string) => {
      g.lineWidth = Math.max(1, px / 300);
      g.strokeStyle = ring;
      const c: RGB = [0, 0, 0];
      for (let i = 0; i < p.n; i++) {
        const v = opts.problem === 'classification' ? (p.label[i] === 1 ? 1 : -1) : p.label[i];
        colour(v, c);
        g.fillStyle = css(c);
        g.beginPath();
        g.arc(toPx(p.xy[2 * i]), px - toPx(p.xy[2 * i + 1]), r, 0, 2 * Math.PI);
        g.fill();
        g.stroke();
      }
    };
    dots(opts.train, '#fff');
    if (opts.showTest) dots(opts.test, '#000');
  }
}

/** Draws one thumbnail (res × res values, read with `stride`/`offset`) into `canvas`, normalised by its own max |value| when `normalise`. */
export function drawThumb(canvas: HTMLCanvasElement, values: ArrayLike<number>, res: number, opts: { stride?: number; offset?: number; normalise?: boolean; discretize?: boolean } = {}): void {
  if (canvas.width !== res) { canvas.width = res; canvas.height = res; }
  const g = canvas.getContext('2d')!, img = g.createImageData(res, res);
  const scale = opts.normalise ? maxAbs(values, opts.stride ?? 1, opts.offset ?? 0, res * res) : 1;
  paint(img, values, { scale, stride: opts.stride, offset: opts.offset, discretize: opts.discretize });
  g.putImageData(img, 0, 0);
}
