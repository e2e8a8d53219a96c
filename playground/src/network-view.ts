// The network drawn as columns of neurons (SVG links between them): inputs
// (the feature toggles), hidden layers with +/− and a size field, and the
// output. Links are coloured by the weight's sign and sized by its magnitude;
// small nets get a heatmap thumbnail in every neuron.
import { h, svg } from './dom.js';
import { EXTENT } from './data.js';
import { FEATURE_IDS, FEATURES, featureMatrix, gridPoints, type FeatureId } from './features.js';
import { colour, css, drawThumb } from './heatmap.js';
import type { Evaluation, HostWeights } from './model.js';
import { LIMITS, showsThumbnails, type Settings } from './state.js';

/** Neurons drawn per layer; wider layers show the first ones and a "+N more" note. */
const MAX_SHOWN = 16;
const THUMB_RES = 100;

interface Link { path: SVGPathElement; layer: number; from: number; to: number }

/** Feature thumbnails do not change: computed once on the host. */
let featureThumbs: Map<FeatureId, Float32Array> | null = null;
function featureValues(): Map<FeatureId, Float32Array> {
  if (!featureThumbs) {
    const xy = gridPoints(THUMB_RES, EXTENT);
    featureThumbs = new Map(FEATURE_IDS.map((id) => [id, featureMatrix(xy, [id])]));
  }
  return featureThumbs;
}

export class NetworkView {
  readonly element: HTMLElement;
  private readonly body: HTMLElement;
  private readonly linksSvg: SVGSVGElement;
  private readonly columnsEl: HTMLElement;
  private readonly layerCount: HTMLElement;
  /** Per column (features, hidden..., output): the drawn node elements, by neuron index. */
  private nodes: HTMLElement[][] = [];
  private thumbs: (HTMLCanvasElement | null)[][] = [];
  private links: Link[] = [];
  private settings!: Settings;
  private weights: HostWeights | null = null;
  private readonly resize = new ResizeObserver(() => this.layoutLinks());

  constructor(private readonly change: (patch: Partial<Settings>) => void) {
    this.layerCount = h('span', { class: 'layer-count', 'aria-live': 'polite' });
    const addLayer = h('button', { type: 'button', class: 'icon', 'aria-label': 'Add a hidden layer', title: 'Add a hidden layer' }, '+');
    const removeLayer = h('button', { type: 'button', class: 'icon', 'aria-label': 'Remove the last hidden layer', title: 'Remove the last hidden layer' }, '−');
    addLayer.addEventListener('click', () => {
      const hid = this.settings.hidden;
      if (hid.length >= LIMITS.layers[1]) return;
      this.change({ hidden: [...hid, hid[hid.length - 1] ?? 4] });
    });
    removeLayer.addEventListener('click', () => { if (this.settings.hidden.length) this.change({ hidden: this.settings.hidden.slice(0, -1) }); });
    this.linksSvg = svg('svg', { class: 'links', 'aria-hidden': 'true' });
    this.columnsEl = h('div', { class: 'columns' });
    this.body = h('div', { class: 'net-body' }, this.linksSvg, this.columnsEl);
    this.element = h('div', { class: 'netview' },
      h('div', { class: 'net-controls' }, addLayer, removeLayer, this.layerCount),
      this.body);
    this.resize.observe(this.body);
  }

  /** Rebuilds the columns for the settings' features and layers. */
  build(s: Settings): void {
    this.settings = s;
    this.layerCount.textContent = `${s.hidden.length} hidden layer${s.hidden.length === 1 ? '' : 's'}`;
    this.columnsEl.replaceChildren();
    this.nodes = [];
    this.thumbs = [];
    const showThumbs = showsThumbnails(s.hidden);

    // Inputs: every feature is a toggle; only the active ones are wired into the net.
    const fcol: HTMLElement[] = [], fthumb: (HTMLCanvasElement | null)[] = [];
    const featureCol = h('div', { class: 'col features' }, h('div', { class: 'col-head' }, h('span', { class: 'col-title' }, 'Features')));
    const values = featureValues();
    for (const f of FEATURES) {
      const on = s.features.includes(f.id);
      const c = h('canvas', { class: 'thumb', width: THUMB_RES, height: THUMB_RES });
      drawThumb(c, values.get(f.id)!, THUMB_RES, { normalise: true });
      const b = h('button', {
        type: 'button', class: `node feature${on ? ' on' : ''}`, 'aria-pressed': on ? 'true' : 'false', 'data-feature': f.id,
        title: `${on ? 'Remove' : 'Use'} input feature ${f.label}`,
      }, c, h('span', { class: 'node-label' }, f.label));
      b.addEventListener('click', () => {
        const now = this.settings.features;
        const next = now.includes(f.id) ? now.filter((x) => x !== f.id) : [...now, f.id];
        if (next.length === 0) return; // at least one input; the button stays on
        this.change({ features: FEATURE_IDS.filter((id) => next.includes(id)) });
      });
      featureCol.append(b);
      if (on) { fcol.push(b); fthumb.push(null); }
    }
    this.columnsEl.append(featureCol);
    this.nodes.push(fcol);
    this.thumbs.push(fthumb);

    s.hidden.forEach((n, l) => {
      const minus = h('button', { type: 'button', class: 'icon small', 'aria-label': `Fewer neurons in layer ${l + 1}`, title: 'Fewer neurons' }, '−');
      const plus = h('button', { type: 'button', class: 'icon small', 'aria-label': `More neurons in layer ${l + 1}`, title: 'More neurons' }, '+');
      const size = h('input', {
        type: 'number', class: 'neurons', min: LIMITS.neurons[0], max: LIMITS.neurons[1], step: 1, value: String(n),
        'aria-label': `Neurons in hidden layer ${l + 1} (1 to ${LIMITS.neurons[1]})`,
      });
      const set = (v: number) => {
        const c = Math.max(LIMITS.neurons[0], Math.min(LIMITS.neurons[1], Math.round(v)));
        if (!Number.isFinite(c)) return;
        const hid = [...this.settings.hidden];
        hid[l] = c;
        this.change({ hidden: hid });
      };
      minus.addEventListener('click', () => set(this.settings.hidden[l] - 1));
      plus.addEventListener('click', () => set(this.settings.hidden[l] + 1));
      size.addEventListener('change', () => {
        const v = Number(size.value);
        if (!Number.isFinite(v) || v < LIMITS.neurons[0] || v > LIMITS.neurons[1]) {
          size.setCustomValidity(`1 to ${LIMITS.neurons[1]}`);
        }
        set(Number.isFinite(v) ? v : this.settings.hidden[l]);
      });
      const col = h('div', { class: 'col hidden-layer', 'data-layer': l },
        h('div', { class: 'col-head' }, h('div', { class: 'neuron-controls' }, minus, size, plus), h('span', { class: 'col-title' }, `layer ${l + 1}`)));
      const els: HTMLElement[] = [], th: (HTMLCanvasElement | null)[] = [];
      for (let j = 0; j < Math.min(n, MAX_SHOWN); j++) {
        const c = showThumbs ? h('canvas', { class: 'thumb', width: THUMB_RES, height: THUMB_RES }) : null;
        const node = h('div', { class: `node neuron${c ? '' : ' dot'}`, title: `layer ${l + 1}, neuron ${j + 1}` }, c ?? '');
        col.append(node);
        els.push(node);
        th.push(c);
      }
      if (n > MAX_SHOWN) col.append(h('div', { class: 'more' }, `+${n - MAX_SHOWN} more`));
      this.columnsEl.append(col);
      this.nodes.push(els);
      this.thumbs.push(th);
    });

    const out = h('canvas', { class: 'thumb', width: THUMB_RES, height: THUMB_RES });
    const outNode = h('div', { class: 'node output', title: 'output' }, out);
    this.columnsEl.append(h('div', { class: 'col output-col' }, h('div', { class: 'col-head' }, h('span', { class: 'col-title' }, 'Output')), outNode));
    this.nodes.push([outNode]);
    this.thumbs.push([out]);
    this.makeLinks();
    requestAnimationFrame(() => this.layoutLinks());
  }

  private makeLinks() {
    this.linksSvg.replaceChildren();
    this.links = [];
    for (let c = 0; c + 1 < this.nodes.length; c++) {
      for (let i = 0; i < this.nodes[c].length; i++) {
        for (let j = 0; j < this.nodes[c + 1].length; j++) {
          const path = svg('path', { class: 'link' });
          const tip = svg('title');
          path.append(tip);
          this.linksSvg.append(path);
          this.links.push({ path, layer: c, from: i, to: j });
        }
      }
    }
    this.paintLinks();
  }

  /** Positions the link curves from node edges (after layout, and on resize). */
  layoutLinks(): void {
    if (!this.links.length) return;
    const box = this.body.getBoundingClientRect();
    // The columns may be wider than the view (it scrolls sideways on narrow screens): cover all of them.
    this.linksSvg.setAttribute('width', String(Math.max(box.width, this.columnsEl.scrollWidth)));
    this.linksSvg.setAttribute('height', String(box.height));
    const left = box.left - this.body.scrollLeft, top = box.top - this.body.scrollTop;
    const rects = this.nodes.map((col) => col.map((n) => n.getBoundingClientRect()));
    for (const k of this.links) {
      const a = rects[k.layer][k.from], b = rects[k.layer + 1][k.to];
      const x1 = a.right - left, y1 = a.top + a.height / 2 - top, x2 = b.left - left, y2 = b.top + b.height / 2 - top;
      const mx = (x1 + x2) / 2;
      k.path.setAttribute('d', `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`);
    }
  }

  /** Weight of a drawn link; for 2-logit classification the output link is the weight on z1 − z0. */
  private weightOf(k: Link): number | null {
    const all = this.weights?.w;
    if (!all || all.length !== this.settings.hidden.length + 1) return null; // weights of another architecture
    const w = all[k.layer], fanIn = this.inputsOf(k.layer), outs = w.length / fanIn;
    if (!Number.isInteger(outs)) return null;
    if (k.layer === all.length - 1 && outs === 2) return w[k.from * 2 + 1] - w[k.from * 2];
    return w[k.from * outs + k.to];
  }

  /** Rows of layer `l`'s weight matrix (its fan-in). */
  private inputsOf(l: number): number {
    return l === 0 ? this.settings.features.length : this.settings.hidden[l - 1];
  }

  private paintLinks() {
    for (const k of this.links) {
      const v = this.weightOf(k);
      if (v === null) { k.path.setAttribute('stroke', '#ccc'); k.path.setAttribute('stroke-width', '1'); continue; }
      k.path.setAttribute('stroke', css(colour(Math.sign(v))));
      k.path.setAttribute('stroke-width', String(0.4 + Math.min(Math.abs(v), 3) * 1.6));
      k.path.firstElementChild!.textContent = `weight ${v.toFixed(3)}`;
    }
  }

  /** New weights read back from the device. */
  setWeights(w: HostWeights | null): void {
    this.weights = w;
    this.paintLinks();
  }

  /** Thumbnails from the evaluation forward (hidden activations for small nets, the output always). */
  setEvaluation(e: Evaluation | null, discretize: boolean): void {
    if (!e) return;
    const R = Math.round(Math.sqrt(e.grid.length));
    const out = this.thumbs[this.thumbs.length - 1][0];
    if (out) drawThumb(out, e.grid, R, { discretize });
    if (!e.hidden) return;
    // tanh is already in [-1, 1]; other activations are scaled by their own largest value.
    const normalise = this.settings.activation !== 'tanh';
    e.hidden.forEach((act, l) => {
      const width = this.settings.hidden[l];
      this.thumbs[l + 1]?.forEach((c, j) => { if (c) drawThumb(c, act, R, { stride: width, offset: j, normalise }); });
    });
  }
}
