// Float64 references for reinforcement learning: returns and GAE by the
// plain backward loop over time, and CartPole-v1 / Pendulum-v1 stepped from
// Gymnasium's published equations (gymnasium/envs/classic_control).

/** Rollout arrays are [T, N], row-major. */
export interface Rollout { T: number; N: number; rewards: number[]; terminated: number[]; truncated: number[]; values: number[]; lastValue: number[]; finalValues: number[] }

/** A_t = δ_t + γλ(1 − done_t)A_{t+1}, δ_t = r_t + γ·next_t − V_t, next_t per Gymnasium's terminated / truncated split. */
export function gaeRef(ro: Rollout, gamma: number, lambda: number): { adv: number[]; ret: number[] } {
  const { T, N } = ro;
  const adv = new Array(T * N).fill(0);
  for (let n = 0; n < N; n++) {
    let a = 0;
    for (let t = T - 1; t >= 0; t--) {
      const i = t * N + n;
      const term = ro.terminated[i] === 1, trunc = ro.truncated[i] === 1;
      const next = term ? 0 : trunc ? ro.finalValues[i] : t === T - 1 ? ro.lastValue[n] : ro.values[i + N];
      const delta = ro.rewards[i] + gamma * next - ro.values[i];
      a = delta + (term || trunc || t === T - 1 ? 0 : gamma * lambda * a);
      adv[i] = a;
    }
  }
  return { adv, ret: adv.map((a, i) => a + ro.values[i]) };
}

/** G_t = r_t + γG_{t+1}, cut at episode ends, bootstrapped from lastValue / finalValues. */
export function returnsRef(ro: Rollout, gamma: number): number[] {
  const { T, N } = ro;
  const out = new Array(T * N).fill(0);
  for (let n = 0; n < N; n++) {
    let g = 0;
    for (let t = T - 1; t >= 0; t--) {
      const i = t * N + n;
      const term = ro.terminated[i] === 1, trunc = ro.truncated[i] === 1;
      const boot = term ? 0 : trunc ? ro.finalValues[i] : t === T - 1 ? ro.lastValue[n] : g;
      g = ro.rewards[i] + gamma * boot;
      out[i] = g;
    }
  }
  return out;
}

/** (a − mean)/(std + eps), unbiased std, and its VJP. */
export function normalizeRef(a: number[], eps: number): number[] {
  const n = a.length, m = a.reduce((s, v) => s + v, 0) / n;
  const s = Math.sqrt(a.reduce((acc, v) => acc + (v - m) ** 2, 0) / (n - 1));
  return a.map((v) => (v - m) / (s + eps));
}
export function normalizeVjp(a: number[], eps: number, g: number[]): number[] {
  const n = a.length, m = a.reduce((s, v) => s + v, 0) / n;
  const c = a.map((v) => v - m);
  const s = Math.sqrt(c.reduce((acc, v) => acc + v * v, 0) / (n - 1));
  const gc = g.reduce((acc, gi, i) => acc + gi * c[i], 0);
  const dc = c.map((ci, j) => g[j] / (s + eps) - gc / ((s + eps) ** 2) * ci / ((n - 1) * s));
  const md = dc.reduce((acc, v) => acc + v, 0) / n;
  return dc.map((v) => v - md);
}

// CartPole-v1 (gymnasium/envs/classic_control/cartpole.py), Euler integration.
export function cartpoleStep(s: number[], action: number): { state: number[]; terminated: boolean } {
  const gravity = 9.8, masscart = 1.0, masspole = 0.1, total = masspole + masscart, length = 0.5;
  const pml = masspole * length, forceMag = 10.0, tau = 0.02;
  const [x, xDot, theta, thetaDot] = s;
  const force = action === 1 ? forceMag : -forceMag;
  const cos = Math.cos(theta), sin = Math.sin(theta);
  const temp = (force + pml * thetaDot ** 2 * sin) / total;
  const thetaAcc = (gravity * sin - cos * temp) / (length * (4.0 / 3.0 - (masspole * cos ** 2) / total));
  const xAcc = temp - (pml * thetaAcc * cos) / total;
  const state = [x + tau * xDot, xDot + tau * xAcc, theta + tau * thetaDot, thetaDot + tau * thetaAcc];
  const thr = (12 * 2 * Math.PI) / 360;
  return { state, terminated: state[0] < -2.4 || state[0] > 2.4 || state[2] < -thr || state[2] > thr };
}

// Pendulum-v1 (gymnasium/envs/classic_control/pendulum.py), g = 10.
export function pendulumStep(s: number[], u: number): { state: number[]; reward: number; obs: number[] } {
  const g = 10.0, m = 1.0, l = 1.0, dt = 0.05;
  const [th, thdot] = s;
  const uc = Math.min(Math.max(u, -2), 2);
  const norm = ((((th + Math.PI) % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI)) - Math.PI;
  const cost = norm ** 2 + 0.1 * thdot ** 2 + 0.001 * uc ** 2;
  let newThdot = thdot + (3 * g / (2 * l) * Math.sin(th) + 3.0 / (m * l ** 2) * uc) * dt;
  newThdot = Math.min(Math.max(newThdot, -8), 8);
  const newTh = th + newThdot * dt;
  return { state: [newTh, newThdot], reward: -cost, obs: [Math.cos(newTh), Math.sin(newTh), newThdot] };
}
