// End-to-end: the playground in headless Chromium (Debian's /usr/bin/chromium
// through playwright-core, with --enable-unsafe-webgpu: WebGPU on SwiftShader).
// Builds and serves the page with tools/serve.mjs on a free port, then checks:
// no console errors; the spiral's test loss falls on WebGPU and on WASM (one
// thread and threads); a setting changed in the page reaches the URL and a
// reload restores it; the heatmap is drawn; out-of-range URL settings are
// corrected in the page; keyboard; a WebGPU loss is recovered (on a new device,
// or on WASM when none comes back) with no lost step; the race and the bench
// run; the weights download as safetensors and load back. Screenshots go to
// test-output/playground/.
// Under CI=true a missing chromium or a page without WebGPU is a failure.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { Stats } from '../../playground/src/session.js';
import { readSafetensors, writeSafetensors } from '../../src/index.js';
import { CHROMIUM, CI, OUT, servePlayground, within, type Served } from '../helpers/playground-browser.js';

const shots: string[] = [];
const speeds: string[] = [];
const consoleErrors: string[] = [];


if (!existsSync(CHROMIUM)) {
  if (CI) {
    test('chromium is installed (needed for the playground end-to-end tests under CI)', () => {
      assert.unreachable(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does this)`);
    });
  } else {
    console.warn(`\n${'!'.repeat(78)}\n!! SKIPPED: playground end-to-end tests: ${CHROMIUM} not found.\n!! Install Debian's chromium (apt-get install chromium) to run them; CI=true makes this a failure.\n${'!'.repeat(78)}\n`);
  }
  test.run();
} else {
  let served: Served | null = null;
  let browser: Browser | null = null;
  let base = '';
  let webgpu = false;

  test.before(async () => {
    served = await servePlayground('site');
    ({ base, browser } = served);
  });

  test.after(async () => {
    await served?.close();
    if (shots.length) console.log(`\nplayground screenshots:\n${shots.map((s) => `  ${s}`).join('\n')}`);
    if (speeds.length) console.log(`playground training speed in headless Chromium (spiral, default net):\n${speeds.map((s) => `  ${s}`).join('\n')}`);
  });

  /** A fresh page at `hash`, ready (backends probed, first evaluation drawn), with console errors collected. */
  async function open(hash = '', viewport = { width: 1400, height: 1000 }): Promise<Page> {
    const page = await browser!.newPage({ viewport });
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`${hash || '(default)'}: ${m.text()}`); });
    page.on('pageerror', (e) => consoleErrors.push(`${hash || '(default)'}: uncaught ${e.message}`));
    await page.goto(base + hash);
    await within(60_000, page.evaluate(() => (globalThis as any).__playground.ready), 'the page to start');
    await within(60_000, page.evaluate(() => (globalThis as any).__playground.idle()), 'the first evaluation');
    return page;
  }
  const stats = (page: Page) => page.evaluate(() => (globalThis as any).__playground.stats() as Stats);
  const shot = async (page: Page, name: string, fullPage = true) => {
    const path = join(OUT, name);
    await page.screenshot({ path, fullPage });
    shots.push(path);
  };

  test('the page loads with no console errors, cross-origin isolated, with its backends', async () => {
    const page = await open();
    const info = await page.evaluate(() => ({
      isolated: crossOriginIsolated, cores: navigator.hardwareConcurrency,
      devices: (globalThis as any).__playground.devices(), settings: (globalThis as any).__playground.settings(),
      title: document.title, tabs: [...document.querySelectorAll('[role=tab]')].map((t) => t.textContent),
    }));
    assert.ok(info.isolated, 'served with COOP/COEP, the page is cross-origin isolated');
    assert.is(info.settings.dataset, 'spiral', 'the newcomer starts on the spiral');
    assert.equal(info.tabs, ['Playground', 'Race', 'Kernel bench', 'Digits', 'Sequence', 'Agent']);
    assert.is(info.devices.unavailable.wasm, null);
    if (info.cores > 1) assert.is(info.devices.unavailable['wasm-threads'], null, 'WASM threads available when isolated');
    webgpu = info.devices.unavailable.webgpu === null;
    if (!webgpu) {
      if (CI) assert.unreachable(`WebGPU is unavailable in the page under CI: ${info.devices.unavailable.webgpu}`);
      console.warn(`\n!! playground e2e: WebGPU unavailable in headless Chromium (${info.devices.unavailable.webgpu}); WebGPU checks SKIPPED\n`);
    }
    assert.equal(consoleErrors, [], 'no console errors');
    await page.close();
  });

  for (const backend of ['webgpu', 'wasm', 'wasm-threads'] as const) {
    test(`spiral: test loss falls on ${backend}`, async () => {
      if (backend === 'webgpu' && !webgpu) return;
      const page = await open(`#backend=${backend}&dataset=spiral`);
      const before = await stats(page);
      assert.is(before.backend, backend);
      assert.ok(before.testLoss > 0.5, `untrained test loss ${before.testLoss}`);
      const after: Stats = await within(90_000, page.evaluate(() => (globalThis as any).__playground.runSteps(300)), `300 steps on ${backend}`);
      assert.is(after.backend, backend, 'trained where asked (no fall-back)');
      assert.is(after.steps, 300);
      assert.ok(after.testLoss < 0.35 && after.testLoss < before.testLoss / 2, `test loss ${before.testLoss} -> ${after.testLoss}`);
      assert.ok(after.stepsPerSec > 0 && after.gflops > 0);
      // The live speed once warm: play for 2 s (the page's own loop), read the last second's rate.
      await page.evaluate(() => (globalThis as any).__playground.play());
      await page.waitForTimeout(2000);
      const live = await stats(page);
      await page.evaluate(() => (globalThis as any).__playground.pause());
      assert.ok(live.steps > 300, 'Play trains');
      speeds.push(`${backend.padEnd(13)} ${live.stepsPerSec.toFixed(0).padStart(6)} steps/s  ${live.gflops.toFixed(3)} GFLOP/s while playing  (test loss ${before.testLoss.toFixed(3)} -> ${after.testLoss.toFixed(3)} after 300 steps, ${live.testLoss.toFixed(4)} after ${live.steps})`);
      // The heatmap was drawn from lepton's forward: both classes' colours cover much of it.
      const px = await page.evaluate(() => {
        const c = document.querySelector<HTMLCanvasElement>('#heatmap')!;
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let blue = 0, orange = 0;
        for (let i = 0; i < d.length; i += 4) {
          if (d[i + 2] > d[i] + 40) blue++;
          else if (d[i] > d[i + 2] + 40) orange++;
        }
        return { blue: blue / (d.length / 4), orange: orange / (d.length / 4), w: c.width };
      });
      assert.ok(px.w >= 100, 'canvas at least 100 px');
      assert.ok(px.blue > 0.15 && px.orange > 0.15, `heatmap differs from blank: ${JSON.stringify(px)}`);
      if (backend === 'webgpu') await shot(page, 'playground-webgpu.png');
      if (backend === 'wasm') await shot(page, 'playground-wasm.png');
      await page.close();
    });
  }

  test('regression with L2, SGD + momentum and ReLU; classification with L1 and GELU: losses fall', async () => {
    for (const hash of [
      '#backend=wasm&problem=regression&dataset=reg-gauss&features=x,y,x2,y2,sinx,siny&hidden=16,16&act=relu&opt=momentum&lr=0.01&reg=l2&regRate=0.001&batch=32',
      '#backend=wasm&dataset=circle&features=x,y&hidden=8,8&act=gelu&opt=sgd&lr=0.1&reg=l1&regRate=0.001&noise=10',
    ]) {
      const page = await open(hash);
      const before = await stats(page);
      const after: Stats = await within(60_000, page.evaluate(() => (globalThis as any).__playground.runSteps(600)), hash);
      assert.ok(after.testLoss < before.testLoss * 0.6, `${hash}: test loss ${before.testLoss} -> ${after.testLoss}`);
      await page.close();
    }
  });

  test('a setting changed in the page updates the URL, and reloading restores it', async () => {
    const page = await open('#backend=wasm');
    await page.selectOption('#activation', 'relu');
    await page.fill('#lr', '0.1');
    await page.press('#lr', 'Tab');
    await page.click('[data-dataset=xor]');
    await page.click('[aria-label="More neurons in layer 1"]');
    await page.click('[data-feature=xy]');
    await page.check('#show-test');
    const hash = await page.evaluate(() => location.hash);
    for (const bit of ['act=relu', 'lr=0.1', 'dataset=xor', 'hidden=13,12,12,12', 'features=x,y,xy,sinx,siny', 'showTest=1']) {
      assert.ok(hash.includes(bit), `${bit} in ${hash}`);
    }
    await page.reload();
    await within(60_000, page.evaluate(() => (globalThis as any).__playground.ready), 'reload');
    const s = await page.evaluate(() => (globalThis as any).__playground.settings());
    assert.is(s.activation, 'relu');
    assert.is(s.lr, 0.1);
    assert.is(s.dataset, 'xor');
    assert.equal(s.hidden, [13, 12, 12, 12]);
    assert.equal(s.features, ['x', 'y', 'xy', 'sinx', 'siny']);
    assert.is(s.showTest, true);
    // The controls show the restored values too.
    assert.is(await page.inputValue('#activation'), 'relu');
    assert.is(await page.inputValue('#lr'), '0.1');
    assert.is(await page.getAttribute('[data-dataset=xor]', 'aria-pressed'), 'true');
    assert.is(await page.isChecked('#show-test'), true);
    await page.close();
  });

  test('changing the network while it trains rebuilds it and training carries on', async () => {
    const page = await open('#backend=wasm');
    await page.evaluate(() => (globalThis as any).__playground.play());
    await page.waitForTimeout(300);
    await page.click('[aria-label="Add a hidden layer"]');
    await page.selectOption('#activation', 'relu');
    await page.click('[data-feature=x2]');
    await page.fill('[aria-label^="Neurons in hidden layer 5"]', '40');
    await page.press('[aria-label^="Neurons in hidden layer 5"]', 'Tab');
    await page.selectOption('#optimizer', 'momentum');
    await page.waitForTimeout(700);
    await page.evaluate(() => (globalThis as any).__playground.pause());
    const st: Stats = await page.evaluate(() => (globalThis as any).__playground.idle());
    const s = await page.evaluate(() => (globalThis as any).__playground.settings());
    assert.equal(s.hidden, [12, 12, 12, 12, 40]);
    assert.equal(s.features, ['x', 'y', 'x2', 'sinx', 'siny']);
    assert.ok(st.steps > 0 && Number.isFinite(st.testLoss), JSON.stringify(st));
    assert.ok((await page.textContent('.netview'))!.includes('+24 more'));
    await page.close();
  });

  test('out-of-range settings in the URL are corrected, with a readable message in the page', async () => {
    const page = await open('#lr=50&hidden=300,4&batch=0&act=swish&backend=wasm');
    const s = await page.evaluate(() => (globalThis as any).__playground.settings());
    assert.is(s.lr, 10);
    assert.equal(s.hidden, [256, 4]);
    assert.is(s.batch, 1);
    assert.is(s.activation, 'tanh');
    const text = await page.textContent('.messages');
    assert.ok(text!.includes('learning rate: 50 is out of range'), text!);
    assert.ok(text!.includes('neurons in layer 1: 300 is out of range'), text!);
    assert.ok(await page.isVisible('.message.warning'));
    assert.ok((await page.textContent('.netview'))!.includes('+240 more'), 'a 256-wide layer draws 16 neurons and says so');
    // Typed input is checked by the same rules.
    await page.fill('#batch', '9999');
    await page.press('#batch', 'Tab');
    assert.is(await page.inputValue('#batch'), '512');
    assert.ok((await page.textContent('.messages'))!.includes('batch size: 9999 is out of range'));
    await page.close();
  });

  test('keyboard: Space plays and pauses, the play button works with Enter, digits switch tabs', async () => {
    const page = await open('#backend=wasm');
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.keyboard.press('Space');
    assert.is((await stats(page)).playing, true, 'Space plays');
    await page.waitForTimeout(600);
    await page.keyboard.press('Space');
    const st = await stats(page);
    assert.is(st.playing, false, 'Space pauses');
    assert.ok(st.steps > 0, 'it trained while playing');
    await page.focus('#play');
    await page.keyboard.press('Enter');
    assert.is((await stats(page)).playing, true);
    await page.keyboard.press('Enter');
    assert.is((await stats(page)).playing, false);
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.keyboard.press('Shift+Slash');
    assert.ok(await page.isVisible('#shortcuts'), '? shows the shortcuts');
    assert.ok((await page.textContent('#shortcuts'))!.includes('play / pause'));
    await page.keyboard.press('3');
    assert.is(await page.getAttribute('#tab-bench', 'aria-selected'), 'true');
    await page.focus('#tab-bench');
    await page.keyboard.press('ArrowLeft');
    assert.is(await page.getAttribute('#tab-race', 'aria-selected'), 'true');
    assert.ok((await page.evaluate(() => location.hash)).includes('tab=race'));
    await page.close();
  });

  test('a lost WebGPU device: lepton recovers and training carries on with no lost step; without a new GPU it continues on WASM', async () => {
    if (!webgpu) return;
    const pg = (page: Page) => ({
      run: (n: number): Promise<Stats> => page.evaluate((k) => (globalThis as any).__playground.runSteps(k), n),
      lose: (permanent: boolean): Promise<boolean> => page.evaluate((p) => (globalThis as any).__playground.loseWebGPUDevice(p), permanent),
      messages: (): Promise<{ kind: string; text: string }[]> => page.evaluate(() => (globalThis as any).__playground.messages()),
    });
    // The same settings (weights, batches) without a loss: the reference.
    const plain = await open('#backend=webgpu');
    await pg(plain).run(20);
    const ref = await pg(plain).run(20);
    await plain.close();

    const page = await open('#backend=webgpu');
    const p = pg(page);
    await p.run(20);
    assert.ok(await p.lose(false), 'lost the GPUDevice (testing.loseDevice)');
    let st = await p.run(20);
    assert.is(st.backend, 'webgpu', 'a new device on the same adapter');
    assert.is(st.steps, 40, 'the step count carries on');
    assert.is(st.testLoss, ref.testLoss, 'no step lost: the same test loss as without the loss, bit for bit');
    assert.is(st.trainLoss, ref.trainLoss);
    let msgs = await p.messages();
    assert.ok(msgs.some((m) => m.text.includes('The GPU device was lost') && m.text.includes('re-created it') && m.text.includes('no lost step')), JSON.stringify(msgs));

    assert.ok(await p.lose(true), 'lost it again, for good');
    st = await p.run(20);
    assert.ok(st.backend.startsWith('wasm'), `now on ${st.backend}`);
    assert.is(st.steps, 60);
    assert.ok(Number.isFinite(st.testLoss), `test loss ${st.testLoss}`);
    msgs = await p.messages();
    assert.ok(msgs.some((m) => m.text.includes('moved the network to WASM') && m.text.includes('no lost step')), JSON.stringify(msgs));
    assert.ok(!msgs.some((m) => m.kind === 'error'), JSON.stringify(msgs));
    await page.close();
  });

  test('race: the same net on two backends side by side', async () => {
    const page = await open(webgpu ? '#raceA=webgpu&raceB=wasm' : '#raceA=wasm-threads&raceB=wasm');
    const res: { backend: string; steps: number; stepsPerSec: number; testLoss: number; error: string | null }[] =
      await within(60_000, page.evaluate(() => (globalThis as any).__playground.race(2500)), 'a 2.5 s race');
    assert.is(res.length, 2);
    for (const r of res) {
      assert.is(r.error, null, `${r.backend}: ${r.error}`);
      assert.ok(r.steps > 0 && r.stepsPerSec > 0, `${r.backend} stepped: ${JSON.stringify(r)}`);
      assert.ok(Number.isFinite(r.testLoss));
    }
    speeds.push(`race ${res.map((r) => `${r.backend} ${r.stepsPerSec.toFixed(0)} steps/s`).join(' vs ')}`);
    await shot(page, 'race.png');
    await page.close();
  });

  test('kernel bench: matmul sizes and the MLP step on each backend, charted', async () => {
    const page = await open('#tab=bench');
    const backends = webgpu ? ['webgpu', 'wasm', 'wasm-threads'] : ['wasm', 'wasm-threads'];
    const res: { case: string; backend: string; gflops: number | null; error?: string }[] =
      await within(120_000, page.evaluate((b) => (globalThis as any).__playground.bench({ sizes: [64, 256], mlp: true, backends: b, budgetMs: 100 }), backends), 'the bench');
    assert.is(res.length, 3 * backends.length);
    for (const r of res) assert.ok(r.gflops !== null && r.gflops > 0, `${r.case} on ${r.backend}: ${r.error ?? r.gflops}`);
    const bars = await page.locator('#bench-chart rect[fill]').count();
    assert.ok(bars >= res.length, `a bar per result (${bars})`);
    speeds.push(`bench GFLOP/s: ${res.map((r) => `${r.case}@${r.backend} ${r.gflops!.toFixed(2)}`).join(', ')}`);
    await shot(page, 'bench.png');
    await page.close();
  });

  test('weights: download the trained network as safetensors, load it back: the same predictions', async () => {
    const page = await open('#backend=wasm&hidden=6,4');
    await within(60_000, page.evaluate(() => (globalThis as any).__playground.runSteps(40)), '40 steps');
    const trained: number[] = await page.evaluate(() => (globalThis as any).__playground.grid());
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#weights-download')]);
    assert.is(download.suggestedFilename(), 'playground.safetensors');
    const path = join(OUT, 'playground.safetensors');
    await download.saveAs(path);
    // PyTorch's names and layouts ([out, in]), the page's settings in the metadata.
    const file = await readSafetensors(path);
    assert.equal(Object.keys(file.tensors), ['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias', 'layers.2.weight', 'layers.2.bias']);
    const inputs: number = await page.evaluate(() => (globalThis as any).__playground.settings().features.length);
    assert.equal(file.tensors['layers.0.weight'].shape, [6, inputs]);
    assert.match(file.metadata!.playground, /hidden=6%2C4|hidden=6,4/);
    // Other weights (Reset), then the file back: the very same predictions.
    await page.click('#reset');
    await page.evaluate(() => (globalThis as any).__playground.idle());
    assert.not.equal(await page.evaluate(() => (globalThis as any).__playground.grid()), trained, 'reset changed the predictions');
    const loaded = async (file: string) => {
      await page.setInputFiles('#weights-file', file);
      // Wait for the message about THIS file: an earlier load's "Loaded" must not end the wait.
      const name = file.split('/').pop()!;
      await within(30_000, page.waitForFunction((n) => (globalThis as any).__playground.messages().some((m: { text: string }) => (m.text.startsWith('Loaded') || m.text.startsWith('Could not load')) && m.text.includes(n)), name), 'the load');
      await page.evaluate(() => (globalThis as any).__playground.idle());
      return page.evaluate(() => (globalThis as any).__playground.messages() as { kind: string; text: string }[]);
    };
    const msgs = await loaded(path);
    assert.ok(msgs.some((m) => m.kind === 'info' && m.text.startsWith('Loaded the weights of playground.safetensors')), JSON.stringify(msgs));
    assert.equal(await page.evaluate(() => (globalThis as any).__playground.grid()), trained, 'the loaded weights predict as the downloaded ones did');
    // A file of another shape (no settings in it): a readable error naming the key and both shapes; the network stays.
    const bad = join(OUT, 'bad.safetensors');
    await writeSafetensors(Object.fromEntries(Object.entries(file.tensors).map(([k, t]) => [k, k === 'layers.1.weight' ? { shape: [5, 6], data: new Float32Array(30) } : { shape: t.shape, data: t.data }])), bad);
    const err = (await loaded(bad)).find((m) => m.kind === 'error');
    assert.match(err?.text ?? '', /Could not load bad.safetensors: loadSafetensors: key 'layers.1.weight': shape mismatch: the file has \[5, 6\] \(F32\), the model needs \[4, 6\]/);
    assert.equal(await page.evaluate(() => (globalThis as any).__playground.grid()), trained, 'a failed load leaves the network as it was');
    await shot(page, 'weights.png');
    await page.close();
  });

  test('narrow screen: the layout stacks without sideways scrolling', async () => {
    const page = await open('#backend=wasm', { width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `page wider than the screen by ${overflow} px`);
    const cols = await page.evaluate(() => ['.data-col', '.net-col', '.out-col'].map((s) => document.querySelector(s)!.getBoundingClientRect().top));
    assert.ok(cols[0] < cols[1] && cols[1] < cols[2], `columns stacked: tops ${cols}`);
    await shot(page, 'narrow.png');
    await page.close();
  });

  test('no console errors on any page', () => {
    assert.equal(consoleErrors, []);
  });

  test.run();
}
