// Invalid fuzz steps: each must be refused with a LeptonError (never a raw
// TypeError or RangeError, never a result), allocate nothing net, and leave
// every value, gradient and optimizer state as it was (Run.refused checks the
// storage count at once; the end of the run compares everything with the
// model, which assumes the call changed nothing).
import * as lp from '../../src/index.js';
import { sizeOf, type Slot } from './model.js';
import { canBroadcast } from './ops.js';
import type { Run, Step } from './run.js';

type Case = (run: Run, s: Step, x: Slot) => void;

const CASES: Case[] = [
  (run, s, x) => {
    // Shapes that cannot broadcast: a size that differs and is not 1.
    const shape = [...x.v.shape, 0].slice(0, Math.max(1, x.v.shape.length)).map((d) => d + 1 + (s.c % 2));
    const y = run.leaf(shape, false, x.device);
    if (canBroadcast(x.v.shape, shape)) return;
    const op = (['add', 'sub', 'mul', 'div', 'maximum', 'minimum'] as const)[s.b % 6];
    run.refused(`${op} of unbroadcastable shapes`, new RegExp(`^${op}: shapes .* cannot be broadcast`), () => lp[op](x.t, y.t));
  },
  (run, s, x) => {
    if (x.v.shape.length !== 2) return;
    const w = run.leaf([x.v.shape[1] + 1, 2], false, x.device);
    run.refused('matmul inner mismatch', /^matmul: inner sizes differ/, () => lp.matmul(x.t, w.t));
  },
  (run, s, x) => {
    const rank = x.v.shape.length;
    const op = (['sum', 'mean', 'max'] as const)[s.b % 3];
    // A rank-0 tensor takes axis 0 and -1 (as PyTorch): its first invalid axes are 1 and -2.
    const hi = Math.max(rank, 1), lo = -Math.max(rank, 1) - 1;
    const bad: [unknown, unknown, RegExp][] = [
      [hi, false, new RegExp(`^${op}: axis ${hi} is out of range`)],
      [lo, false, /out of range/],
      [{ axis: 0 }, false, /argument 'axis' must be an integer or an array of integers, got an object; the axis is positional/],
      [[0, 0], false, rank ? /axis 0 is given twice/ : /given twice/],
      [undefined, 'yes', /argument 'keepDims' must be a boolean/],
      ['0', false, /argument 'axis' must be an integer/],
    ];
    const [axis, keep, re] = bad[s.c % bad.length];
    run.refused(`${op} with axis ${String(axis)}`, re, () => lp[op](x.t, axis as number, keep as boolean));
  },
  (run, s, x) => {
    const n = sizeOf(x.v.shape);
    const [shape, re] = s.c % 2 ? [[n + 1], /^reshape: cannot view shape/] : [[-1, -1], /more than one -1/];
    run.refused('reshape', re, () => x.t.reshape(shape));
  },
  (run, s, x) => {
    const rank = x.v.shape.length;
    const perm = s.c % 2 ? [...x.v.shape.map(() => 0), 0] : x.v.shape.map(() => 0);
    if (rank <= 1 && s.c % 2 === 0) return; // [] and [0] are the permutations of 0 and 1 axes
    run.refused('transpose', /^transpose: argument 'perm' .* is not a permutation/, () => lp.transpose(x.t, perm));
  },
  (run, s) => {
    const gone = run.slots.find((t) => t.disposed);
    if (!gone) return;
    const calls: [string, () => unknown][] = [['exp', () => gone.t.exp()], ['sum', () => lp.sum(gone.t)], ['dataSync', () => gone.t.dataSync()],
      ['backward', () => gone.t.backward()], ['add', () => lp.add(gone.t, 1)]];
    const [op, f] = calls[s.c % calls.length];
    run.refused(`${op} of a disposed tensor`, new RegExp(`^${op}: argument '(x|this|a)' .*was disposed`), f);
  },
  (run, s, x) => {
    if (!run.other) return;
    const y = run.leaf([...x.v.shape], false, x.device === run.device ? run.other : run.device);
    const op = (['add', 'mul', 'maximum'] as const)[s.b % 3];
    run.refused('two devices', new RegExp(`^${op}: tensors are on different devices`), () => lp[op](x.t, y.t));
  },
  (run, s, x) => {
    const form = s.c % 5 === 0 && x.v.data.length === 1 ? 2 : s.c % 5;
    if (!x.requiresGrad) {
      run.refused('backward without a gradient path', /^backward: the tensor .* does not require a gradient/, () => x.t.backward());
    } else if (form === 0) {
      run.refused('backward of a non-scalar', /^backward: called on a non-scalar tensor/, () => x.t.backward());
    } else if (form === 1) {
      const g = run.leaf([...x.v.shape, 2], false, x.device, false);
      run.extra.push(g.t);
      run.refused('backward with a wrong-shaped grad', /^backward: argument 'grad' has shape/, () => x.t.backward(g.t));
    } else if (form === 2) {
      run.refused('backward(1)', /^backward: argument 'grad' must be a Tensor/, () => x.t.backward(1 as never));
    } else {
      const opts = [{ retainGraph: 'yes' }, { retain_graph: true }, 5][form - 3 + (s.b % 2)] as never;
      run.refused('backward with bad options', /^backward: (option 'retainGraph' must be a boolean|unknown option 'retain_graph'|argument 'options' must be an object)/,
        () => x.t.backward(undefined, opts));
    }
  },
  (run, s) => {
    const bad: [() => unknown, RegExp][] = [
      [() => lp.tensor('abc' as never), /^tensor: argument 'data' must be a number, an array or a typed array, got "abc"/],
      [() => lp.tensor({ length: 2 } as never), /^tensor: argument 'data' has no number at index 0/],
      [() => lp.tensor([[1, 2], [3]]), /^tensor: nested arrays are ragged/],
      [() => lp.tensor([1, 2], { devcie: run.device } as never), /^tensor: unknown option 'devcie' \(did you mean 'device'\?\)/],
      [() => lp.zeros([2], { requiresGrad: 'yes' } as never), /^zeros: option 'requiresGrad' must be a boolean/],
      [() => lp.randn([2], { std: -1 }), /^randn: option 'std' must be a finite number >= 0, got -1/],
      [() => lp.ones([2.5]), /^ones: argument 'shape' has size 2.5/],
      [() => lp.tensor([1], { device: 'cpu' } as never), /^tensor: option 'device' must be one of 'wasm', 'webgpu', got "cpu"/],
    ];
    const [f, re] = bad[s.c % bad.length];
    run.refused(`creation ${s.c % bad.length}`, re, f);
  },
  (run, s, x) => {
    const rank = x.v.shape.length;
    if (s.c % 3 === 0 && rank >= 1) {
      run.refused('softmax axis', /^(softmax|logSoftmax): axis .* is out of range/, () => (s.b % 2 ? lp.softmax : lp.logSoftmax)(x.t, rank));
    } else if (s.c % 3 === 1 && rank === 2) {
      const labels = Array.from({ length: x.v.shape[0] }, (_, i) => (i === 0 ? x.v.shape[1] : 0));
      run.refused('crossEntropy label', /^crossEntropy: argument 'labels' has class id/, () => lp.crossEntropy(x.t, labels));
    } else if (rank >= 1) {
      const w = run.leaf([x.v.shape[rank - 1], 2], false, x.device);
      const act = ['toString', '__proto__', 'constructor', 'swish'][s.b % 4];
      run.refused(`linear act ${act}`, /^linear: argument 'act' must be one of 'none', 'relu', 'gelu', 'tanh', 'sigmoid'/, () => lp.linear(x.t, w.t, null, act as never));
    }
  },
  (run, s) => {
    const params = run.live((t) => t.leaf && t.requiresGrad);
    if (!params.length) return;
    const p = params[s.a % params.length];
    const bad: [() => unknown, RegExp][] = [
      [() => new lp.optim.SGD([p.t, p.t]), /^optim\.SGD: params\[1\] is the same tensor as params\[0\]/],
      [() => new lp.optim.Adam([p.t], { learningRate: 0.1 } as never), /^optim\.Adam: unknown option 'learningRate' \(did you mean 'lr'\?\)/],
      [() => new lp.optim.SGD([p.t], { lr: -1 }), /^optim\.SGD: option 'lr' must be a finite number >= 0, got -1/],
      [() => new lp.optim.AdamW([p.t], { betas: [0.9, 1] }), /^optim\.AdamW: option 'betas' must be an array of 2 values/],
    ];
    if (run.optim) {
      const o = run.optim.o;
      bad.push([() => { o.lr = NaN; }, /option 'lr' must be a finite number >= 0, got NaN/]);
      // A gradient of the right size and the wrong shape, set by hand: the step changes nothing.
      // (A disposed parameter would be refused first.)
      const q = run.optim.params.some((t) => t.disposed) ? null
        : run.optim.params.find((t) => t.v.shape.length === 2 && t.v.shape[0] !== t.v.shape[1]);
      if (q) {
        bad.push([() => {
          const keep = q.t.grad;
          const wrong = lp.zeros([q.v.shape[1], q.v.shape[0]], { device: q.device });
          q.t.grad = wrong;
          try { o.step(); } finally { q.t.grad = keep; wrong.dispose(); }
        }, /^optim\.\w+\.step: params\[\d+\]\.grad has shape \[\d+, \d+\]; needs/]);
      }
    }
    const [f, re] = bad[s.c % bad.length];
    run.refused(`optimizer ${s.c % bad.length}`, re, f);
  },
  (run, s) => {
    const body = async () => lp.zeros([1]);
    const [f, re] = s.c % 2 ? [() => lp.scope(body as never), /^scope: the function is async/] : [() => lp.noGrad(body as never), /^noGrad: the function is async/];
    run.refused('async scope/noGrad', re, f);
  },
];

export function misuse(run: Run, s: Step): void {
  const x = run.pick(s.a);
  const c = CASES[s.b % CASES.length];
  if (!x && s.b % CASES.length !== 8 && s.b % CASES.length !== 11) return;
  c(run, s, x!);
  // The refused call changed nothing the slots it saw hold.
  if (x) run.read(x, 'after a refused call');
}
