// Charts: loss over steps (canvas) and grouped bars of GFLOP/s (SVG).
import { num, svg } from './dom.js';

export interface LossPoint { step: number; train: number; test: number }

/** Train (grey) and test (dark) loss against steps, y from 0 to the largest value shown (or a fixed `top`, e.g. 1 for accuracy). */
export class LossChart {
  constructor(readonly canvas: HTMLCanvasElement, readonly opts: { top?: number } = {}) {}

  draw(history: readonly LossPoint[]): void {
    const c = this.canvas, dpr = devicePixelRatio || 1;
    const w = Math.round((c.clientWidth || 300) * dpr), hgt = Math.round((c.clientHeight || 80) * dpr);
    if (c.width !== w || c.height !== hgt) { c.width = w; c.height = hgt; }
    const g = c.getContext('2d')!;
    g.clearRect(0, 0, w, hgt);
    g.strokeStyle = '#ccc';
    g.lineWidth = dpr;
    g.strokeRect(0.5, 0.5, w - 1, hgt - 1);
    if (history.length < 2) return;
    const first = history[0].step, last = history[history.length - 1].step;
    let top = this.opts.top ?? 1e-9;
    if (this.opts.top === undefined) for (const p of history) { if (Number.isFinite(p.train)) top = Math.max(top, p.train); if (Number.isFinite(p.test)) top = Math.max(top, p.test); }
    const pad = 4 * dpr;
    const x = (s: number) => pad + ((s - first) / Math.max(last - first, 1)) * (w - 2 * pad);
    const y = (v: number) => hgt - pad - (Math.min(v, top) / top) * (hgt - 2 * pad);
    const line = (key: 'train' | 'test', colour: string) => {
      g.strokeStyle = colour;
      g.lineWidth = 1.5 * dpr;
      g.beginPath();
      let started = false;
      for (const p of history) {
        const v = p[key];
        if (!Number.isFinite(v)) continue;
        if (started) g.lineTo(x(p.step), y(v)); else { g.moveTo(x(p.step), y(v)); started = true; }
      }
      g.stroke();
    };
    line('train', '#999');
    line('test', '#222');
    g.fillStyle = '#666';
    g.font = `${10 * dpr}px system-ui, sans-serif`;
    g.fillText(num(top), pad + 2 * dpr, pad + 10 * dpr);
  }
}

export interface BarGroup { label: string; values: { series: string; value: number | null }[] }

/**
 * Grouped bar chart: one group per label (e.g. a matmul size), one bar per
 * series (a backend). Null values (not run, failed) leave a gap. Returns an
 * <svg> sized by the viewBox, so it scales to its container.
 */
export function barChart(groups: readonly BarGroup[], series: readonly string[], colours: readonly string[], unit: string): SVGSVGElement {
  const W = 640, H = 260, left = 48, bottom = 40, top = 14, right = 8;
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', class: 'bar-chart' });
  const max = Math.max(1e-9, ...groups.flatMap((g) => g.values.map((v) => v.value ?? 0)));
  const title = svg('title');
  title.textContent = `${unit} per case and backend`;
  root.append(title);
  const plotH = H - top - bottom, plotW = W - left - right;
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4, yy = top + plotH - (plotH * i) / 4;
    root.append(svg('line', { x1: left, x2: W - right, y1: yy, y2: yy, stroke: '#e3e3e3' }));
    const t = svg('text', { x: left - 6, y: yy + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#555' });
    t.textContent = num(v);
    root.append(t);
  }
  const axis = svg('text', { x: 12, y: top + plotH / 2, 'font-size': 11, fill: '#555', transform: `rotate(-90 12 ${top + plotH / 2})`, 'text-anchor': 'middle' });
  axis.textContent = unit;
  root.append(axis);
  const gw = plotW / Math.max(groups.length, 1), bw = (gw * 0.8) / Math.max(series.length, 1);
  groups.forEach((g, gi) => {
    const gx = left + gi * gw + gw * 0.1;
    g.values.forEach((v) => {
      const si = series.indexOf(v.series);
      if (si < 0 || v.value === null || !Number.isFinite(v.value)) return;
      const bh = (v.value / max) * plotH;
      const r = svg('rect', { x: gx + si * bw, y: top + plotH - bh, width: Math.max(bw - 2, 1), height: bh, fill: colours[si % colours.length] });
      const tip = svg('title');
      tip.textContent = `${g.label}, ${v.series}: ${num(v.value)} ${unit}`;
      r.append(tip);
      root.append(r);
    });
    const t = svg('text', { x: gx + gw * 0.4, y: H - bottom + 16, 'text-anchor': 'middle', 'font-size': 11, fill: '#333' });
    t.textContent = g.label;
    root.append(t);
  });
  series.forEach((s, si) => {
    const lx = left + si * 170, ly = H - 10;
    root.append(svg('rect', { x: lx, y: ly - 9, width: 10, height: 10, fill: colours[si % colours.length] }));
    const t = svg('text', { x: lx + 14, y: ly, 'font-size': 11, fill: '#333' });
    t.textContent = s;
    root.append(t);
  });
  return root;
}
