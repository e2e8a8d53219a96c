// The Agent tab's pictures: CartPole and Pendulum drawn from their physics
// state with Gymnasium's proportions (its `render()`), and the return curve.
import type { EpisodePoint, UpdatePoint, View } from './agent-session.js';
import { num } from './dom.js';

/** Sizes a canvas's backing store to its CSS box × devicePixelRatio; returns the 2D context in CSS pixels and the box. */
function fit(c: HTMLCanvasElement, fallbackW: number, fallbackH: number): { g: CanvasRenderingContext2D; w: number; h: number } {
  const dpr = devicePixelRatio || 1, w = c.clientWidth || fallbackW, h = c.clientHeight || fallbackH;
  const bw = Math.round(w * dpr), bh = Math.round(h * dpr);
  if (c.width !== bw || c.height !== bh) { c.width = bw; c.height = bh; }
  const g = c.getContext('2d')!;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  return { g, w, h };
}

const POLE = '#ca9865', CART = '#222', AXLE = '#8184cb', TRACK = '#999', PUSH = 'rgba(8, 119, 189, 0.8)';

/**
 * CartPole as Gymnasium draws it (600 × 400 at scale 1): the visible world is
 * the ±2.4 m track plus as much again, the pole (1 m long) scaled alike,
 * a 50 × 30 cart on a track 100 px above the bottom. The last push is an
 * arrow on the cart's side (while watching).
 */
function drawCartPole(g: CanvasRenderingContext2D, w: number, h: number, v: View): void {
  // World x in [−3, 3] (Gymnasium shows [−2.4, 2.4]), so the cart at a limit stays in view.
  const scale = w / 6, k = w / 600, trackY = h - 100 * (h / 400);
  const [x, , theta] = v.state.length === 4 ? v.state : [0, 0, 0, 0];
  const cartW = 50 * k, cartH = 30 * k, poleW = 10 * k, poleLen = scale * 1.0;
  const cx = w / 2 + x * scale, cy = trackY;
  g.strokeStyle = TRACK;
  g.lineWidth = 1;
  g.beginPath(); g.moveTo(0, trackY); g.lineTo(w, trackY); g.stroke();
  // The ±2.4 m limits: beyond them the episode ends.
  g.setLineDash([4, 4]);
  for (const side of [-1, 1]) { const lx = w / 2 + side * 2.4 * scale; g.beginPath(); g.moveTo(lx, trackY - 60 * k); g.lineTo(lx, trackY + 12 * k); g.stroke(); }
  g.setLineDash([]);
  g.fillStyle = CART;
  g.fillRect(cx - cartW / 2, cy - cartH / 2, cartW, cartH);
  const axleY = cy - cartH / 4;
  g.save();
  g.translate(cx, axleY);
  g.rotate(theta); // θ > 0 leans the pole right (clockwise on screen)
  g.fillStyle = POLE;
  g.fillRect(-poleW / 2, -(poleLen - poleW / 2), poleW, poleLen);
  g.restore();
  g.fillStyle = AXLE;
  g.beginPath(); g.arc(cx, axleY, poleW / 2, 0, 2 * Math.PI); g.fill();
  if (v.action === 0 || v.action === 1) {
    const dir = v.action === 1 ? 1 : -1, ax = cx - dir * (cartW / 2 + 4 * k), len = 22 * k;
    g.strokeStyle = PUSH; g.fillStyle = PUSH; g.lineWidth = 3 * k;
    g.beginPath(); g.moveTo(ax - dir * len, cy); g.lineTo(ax - dir * 6 * k, cy); g.stroke();
    g.beginPath(); g.moveTo(ax, cy); g.lineTo(ax - dir * 8 * k, cy - 6 * k); g.lineTo(ax - dir * 8 * k, cy + 6 * k); g.fill();
  }
}

/**
 * Pendulum as Gymnasium draws it: a rod of length 1 from the centre of a
 * 4.4 × 4.4 world, θ = 0 upright and growing counter-clockwise; the torque
 * (±2) as an arc around the axle whose length grows with |u| (while watching).
 */
function drawPendulum(g: CanvasRenderingContext2D, w: number, h: number, v: View): void {
  const size = Math.min(w, h), scale = size / 4.4, cx = w / 2, cy = h / 2;
  const th = v.state.length === 2 ? v.state[0] : 0;
  const ex = cx - Math.sin(th) * scale, ey = cy - Math.cos(th) * scale;
  g.strokeStyle = '#ccc'; g.lineWidth = 1;
  g.beginPath(); g.moveTo(cx, cy); g.lineTo(cx, cy - scale * 1.15); g.stroke(); // upright: the goal
  g.strokeStyle = '#cc4c4c'; g.lineCap = 'round'; g.lineWidth = 0.2 * scale;
  g.beginPath(); g.moveTo(cx, cy); g.lineTo(ex, ey); g.stroke();
  g.lineCap = 'butt';
  g.fillStyle = '#000';
  g.beginPath(); g.arc(cx, cy, 0.05 * scale, 0, 2 * Math.PI); g.fill();
  if (v.action !== null && Number.isFinite(v.action) && v.action !== 0) {
    const u = Math.max(-2, Math.min(2, v.action)), r = 0.35 * scale, span = (Math.abs(u) / 2) * 0.8 * Math.PI;
    // Positive torque turns counter-clockwise (θ grows): on screen, an arc drawn anticlockwise.
    const start = -Math.PI / 2, end = start - Math.sign(u) * span;
    g.strokeStyle = PUSH; g.fillStyle = PUSH; g.lineWidth = 0.04 * scale;
    g.beginPath(); g.arc(cx, cy, r, start, end, u > 0); g.stroke();
    const tx = cx + r * Math.cos(end), ty = cy + r * Math.sin(end), dir = u > 0 ? -1 : 1;
    const tang = [-Math.sin(end) * dir, Math.cos(end) * dir], nrm = [Math.cos(end), Math.sin(end)], a = 0.08 * scale;
    g.beginPath();
    g.moveTo(tx + tang[0] * a, ty + tang[1] * a);
    g.lineTo(tx + nrm[0] * a * 0.7, ty + nrm[1] * a * 0.7);
    g.lineTo(tx - nrm[0] * a * 0.7, ty - nrm[1] * a * 0.7);
    g.fill();
  }
}

/** Draws the environment's state on `canvas` (sized by CSS). */
export function drawEnv(canvas: HTMLCanvasElement, v: View): void {
  const { g, w, h } = fit(canvas, 600, 400);
  if (v.env === 'cartpole') drawCartPole(g, w, h, v); else drawPendulum(g, w, h, v);
}

/**
 * The return curve against environment steps: each training episode's
 * return as a faint dot, each update's mean return as the dark line, the
 * solved level dashed. The y range is the environment's (CartPole 0–500,
 * Pendulum from its worst return shown to 0).
 */
export function drawReturns(canvas: HTMLCanvasElement, updates: readonly UpdatePoint[], episodes: readonly EpisodePoint[], opts: { lo: number; hi: number; goal: number }): void {
  const { g, w, h } = fit(canvas, 300, 160);
  g.strokeStyle = '#ccc'; g.lineWidth = 1;
  g.strokeRect(0.5, 0.5, w - 1, h - 1);
  let lo = opts.lo;
  for (const e of episodes) lo = Math.min(lo, e.ret);
  const hi = opts.hi, last = Math.max(updates[updates.length - 1]?.step ?? 0, 1);
  const padL = 34, pad = 6;
  const x = (s: number) => padL + (s / last) * (w - padL - pad);
  const y = (v: number) => h - pad - ((v - lo) / Math.max(hi - lo, 1e-9)) * (h - 2 * pad);
  g.fillStyle = '#666'; g.font = '10px system-ui, sans-serif'; g.textAlign = 'right';
  for (const v of [lo, hi]) g.fillText(num(v), padL - 4, Math.min(h - 2, Math.max(10, y(v) + 3)));
  if (updates.length) g.fillText(`${Math.round(last).toLocaleString('en')} steps`, w - pad, h - pad - 2);
  g.setLineDash([4, 3]); g.strokeStyle = '#2a9d8f'; g.fillStyle = '#2a9d8f';
  g.beginPath(); g.moveTo(padL, y(opts.goal)); g.lineTo(w - pad, y(opts.goal)); g.stroke();
  g.setLineDash([]);
  g.textAlign = 'left';
  g.fillText(`solved: ${num(opts.goal)}`, padL + 4, y(opts.goal) + (y(opts.goal) < 20 ? 12 : -4));
  g.fillStyle = 'rgba(8, 119, 189, 0.25)';
  for (const e of episodes) g.fillRect(x(e.step) - 1, y(e.ret) - 1, 2, 2);
  g.strokeStyle = '#183d4e'; g.lineWidth = 2;
  g.beginPath();
  let started = false;
  for (const p of updates) {
    if (!Number.isFinite(p.mean)) continue;
    if (started) g.lineTo(x(p.step), y(p.mean)); else { g.moveTo(x(p.step), y(p.mean)); started = true; }
  }
  g.stroke();
}
