// End-to-end: the playground's Agent tab in headless Chromium (as
// digits-e2e.test.ts: Debian's /usr/bin/chromium through playwright-core,
// WebGPU on SwiftShader). On WebGPU and on WASM: PPO trains on CartPole from
// the Train button; the canvas animates while it trains (pixels change
// between frames); the return curve rises (the mean return of the last
// updates clearly above the first updates'); "Watch policy" plays one greedy
// episode at 50 steps/s with the canvas moving; the settings survive a
// reload; no task blocks the page for long. Out-of-range URL settings are
// corrected; at phone width the tab fits. Screenshots:
// test-output/playground/agent-webgpu.png, agent-wasm.png, agent-phone.png.
// Under CI=true a missing chromium or a page without WebGPU is a failure.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, CI, OUT, servePlayground, within, type Served } from '../helpers/playground-browser.js';
import type { AgentStats } from '../../playground/src/agent-session.js';

const consoleErrors: string[] = [];
const figures: string[] = [];

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

if (!existsSync(CHROMIUM)) {
  if (CI) test('chromium is installed (needed for the Agent end-to-end tests under CI)', () => assert.unreachable(`${CHROMIUM} is missing`));
  else console.warn(`\n!! SKIPPED: Agent end-to-end tests: ${CHROMIUM} not found (apt-get install chromium; CI=true makes this a failure)\n`);
  test.run();
} else {
  let served: Served | null = null;
  let browser: Browser | null = null;
  let base = '';

  test.before(async () => {
    served = await servePlayground('agent-site');
    ({ base, browser } = served);
  });

  test.after(async () => {
    await served?.close();
    if (figures.length) console.log(`\nagent e2e:\n${figures.map((f) => `  ${f}`).join('\n')}`);
  });

  /** The Agent tab at `hash`, its learner built; long tasks (the Long Tasks API) are collected from the start. */
  async function open(hash: string, viewport = { width: 1400, height: 1000 }): Promise<Page> {
    const page = await browser!.newPage({ viewport });
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`${hash}: ${m.text()}`); });
    page.on('pageerror', (e) => consoleErrors.push(`${hash}: uncaught ${e.message}`));
    await page.addInitScript(() => {
      const g = globalThis as any;
      g.__longTasks = [];
      g.__readbacks = [];
      new PerformanceObserver((list) => { for (const e of list.getEntries()) g.__longTasks.push([e.startTime, e.duration]); }).observe({ type: 'longtask', buffered: true });
    });
    await page.goto(base + hash);
    await within(60_000, page.evaluate(() => (globalThis as any).__playground.ready), 'the page to start');
    await within(60_000, page.evaluate(() => (globalThis as any).__playground.agent.open()), 'the agent to be built');
    return page;
  }
  const hook = <T>(page: Page, name: string, arg?: unknown) =>
    page.evaluate(([n, a]) => (globalThis as any).__playground.agent[n as string](a), [name, arg] as const) as Promise<T>;
  const stats = (page: Page) => hook<AgentStats>(page, 'stats');

  /** A checksum of a canvas's pixels (any drawn change alters it). */
  const pixels = (page: Page, id: string) => page.evaluate((canvasId) => {
    const c = document.getElementById(canvasId) as HTMLCanvasElement, t0 = performance.now();
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    (globalThis as any).__readbacks.push([t0, performance.now()]);
    let sum = 0, inked = 0;
    for (let i = 0; i < d.length; i += 4) { sum = (sum * 31 + d[i] + 7 * d[i + 1] + 13 * d[i + 2] + 17 * d[i + 3]) % 2147483647; if (d[i + 3] > 0) inked++; }
    return { sum, inked, w: c.width, h: c.height };
  }, id);

  /**
   * The page's long tasks (over 50 ms) since `clearLongTasks`, less those
   * that contain one of the test's own canvas readbacks (getImageData waits
   * for the GPU canvas: a long task of the test's making, not the page's).
   */
  const longTasks = (page: Page) => page.evaluate(() => {
    const g = globalThis as any;
    return (g.__longTasks as [number, number][])
      .filter(([s, d]) => !(g.__readbacks as [number, number][]).some(([a, b]) => b >= s && a <= s + d))
      .map(([, d]) => d);
  });
  const clearLongTasks = (page: Page) => page.evaluate(() => { const g = globalThis as any; g.__longTasks.length = 0; g.__readbacks.length = 0; });

  /** Polls `cond` every 50 ms, collecting distinct canvas checksums meanwhile (`cond` sees them). */
  async function watchCanvas(page: Page, cond: (seen: Set<number>) => Promise<boolean>, ms: number, what: string): Promise<Set<number>> {
    const seen = new Set<number>();
    const t0 = Date.now();
    while (!(await cond(seen))) {
      if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms: ${what}`);
      seen.add((await pixels(page, 'agent-canvas')).sum);
      await page.waitForTimeout(50);
    }
    return seen;
  }

  const cases = [
    // SwiftShader runs WebGPU on the CPU (an update of 16 × 64 steps takes seconds there): few updates.
    { backend: 'webgpu', updates: 5 },
    { backend: 'wasm', updates: 14 },
  ];
  for (const c of cases) {
    test(`agent on ${c.backend}: trains from the button, the canvas animates, the return rises, watching plays an episode`, async () => {
      const page = await open(`#tab=agent&backend=${c.backend}&agentSeed=2`);
      const webgpu = await page.evaluate(() => (globalThis as any).__playground.devices().unavailable.webgpu as string | null);
      if (c.backend === 'webgpu' && webgpu) {
        await page.close();
        if (CI) assert.unreachable(`WebGPU is unavailable in the page under CI: ${webgpu}`);
        console.warn(`\n!! Agent e2e: WebGPU unavailable in headless Chromium (${webgpu}); the WebGPU case is SKIPPED\n`);
        return;
      }
      const idle = await pixels(page, 'agent-canvas');
      assert.ok(idle.inked > 0 && idle.w > 0, 'the environment is drawn before training');

      // Train from the button; the canvas shows the first training environment as it moves.
      await clearLongTasks(page); // from here on: loading is not training
      const t0 = Date.now();
      await page.click('#agent-play');
      // (Two updates, and three different pictures: a loaded machine may give few samples per update.)
      const frames = await watchCanvas(page, async (seen) => seen.size >= 3 && (await stats(page)).updates >= 2, 120_000, `two updates on ${c.backend}`);
      await page.click('#agent-play');
      const trainMs = Date.now() - t0;
      assert.ok(frames.size >= 3, `the canvas changed while training: ${frames.size} distinct frames`);
      let st = await stats(page);
      assert.is(st.playing, false, 'the button paused training');
      assert.is(st.backend, c.backend, 'trained where asked (no fall-back)');
      st = await within(240_000, hook<AgentStats>(page, 'runUpdates', c.updates - st.updates), `${c.updates} updates on ${c.backend}`);
      assert.ok(st.updates >= c.updates && st.steps === st.updates * 16 * 64, `${st.updates} updates, ${st.steps} steps`);

      // The return curve: each update's mean episode return; random CartPole lasts ~22 steps.
      const hist = await hook<{ updates: number[]; episodes: number[] }>(page, 'history');
      const means = hist.updates.filter(Number.isFinite);
      const first = mean(means.slice(0, 2)), last = mean(means.slice(-2));
      assert.ok(first < 35, `the first updates' mean return ${first} (a near-uniform policy)`);
      assert.ok(last > 1.5 * first && last > 35, `the mean return rose: first updates ${first.toFixed(1)}, last ${last.toFixed(1)} (${means.map((m) => m.toFixed(0)).join(' ')})`);
      assert.is(hist.episodes.length, st.episodes);
      const chart = await pixels(page, 'agent-returns');
      assert.ok(chart.inked > 500, 'the return chart is drawn');
      assert.is(await page.locator('#agent-episodes').textContent(), st.episodes.toLocaleString('en'));

      // Watch: one greedy episode at CartPole's 50 steps/s, the canvas moving (started from the button; the hook's promise reports it).
      const trainLongest = Math.max(0, ...(await longTasks(page)));
      // The captions and canvas frames of the episode, recorded in the page (each caption change; the canvas checksum at
      // every animation frame): polling from here can miss most of a short episode on a loaded machine.
      await page.evaluate(() => {
        const g = globalThis as any, el = document.getElementById('agent-view-caption')!, c = document.getElementById('agent-canvas') as HTMLCanvasElement;
        g.__captions = [];
        g.__frames = new Set<number>();
        g.__recording = true;
        new MutationObserver(() => g.__captions.push(el.textContent ?? '')).observe(el, { childList: true, characterData: true, subtree: true });
        // (A property, not a named const: tsx would wrap a named function in a helper the page does not have.)
        g.__frameTick = () => {
          if (!g.__recording) return;
          const t0 = performance.now(), d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
          g.__readbacks.push([t0, performance.now()]);
          let sum = 0;
          for (let i = 0; i < d.length; i += 4) sum = (sum * 31 + d[i] + 7 * d[i + 1] + 13 * d[i + 2] + 17 * d[i + 3]) % 2147483647;
          g.__frames.add(sum);
          requestAnimationFrame(g.__frameTick);
        };
        requestAnimationFrame(g.__frameTick);
      });
      await page.click('#agent-watch');
      await watchCanvas(page, async () => {
        const s = await stats(page);
        return !s.watching && s.watchSteps > 0;
      }, 30_000, 'the watched episode to end');
      const done = await stats(page);
      const ep = { steps: done.watchSteps, ret: done.watchReturn, ms: done.watchMs };
      const { captions, frames: watchFrames } = await page.evaluate(() => {
        const g = globalThis as any;
        g.__recording = false;
        return { captions: g.__captions as string[], frames: (g.__frames as Set<number>).size };
      });
      assert.ok(captions.some((c) => /^Watching the policy \(greedy\) at 50 steps\/s: step [1-9]\d*, return /.test(c)), `a caption while watching: ${captions.slice(0, 3).join(' | ')}`);
      assert.match(captions[captions.length - 1], new RegExp(`^Watched the policy \\(greedy\\) at 50 steps/s: step ${ep.steps}, return ${ep.ret} \\(stopped or over\\)`));
      const ms = ep.ms;
      assert.ok(ep.steps >= 8 && ep.ret === ep.steps, `a CartPole episode earns 1 per step: ${ep.steps} steps, return ${ep.ret}`);
      assert.ok(watchFrames >= 3, `the canvas moved while watching: ${watchFrames} distinct frames over ${ep.steps} steps`);
      // Real time: never faster than 50 steps/s; not much slower where one action takes well under 20 ms (WASM).
      assert.ok(ms >= ep.steps * 20 - 2, `${ep.steps} steps took ${ms.toFixed(0)} ms: faster than 50 steps/s`);
      if (c.backend === 'wasm') assert.ok(ms <= ep.steps * 20 * 1.3 + 300, `${ep.steps} steps took ${ms.toFixed(0)} ms: slower than real time`);
      assert.match((await page.locator('#agent-watch-return').textContent()) ?? '', new RegExp(`^${ep.ret} \\(${ep.steps} steps\\)`));
      const allTasks = await longTasks(page);
      const longest = Math.max(0, ...allTasks);

      await page.screenshot({ path: join(OUT, `agent-${c.backend}.png`), fullPage: true });

      // The settings in the URL, and back after a reload.
      await page.fill('#agent-lr', '0.002');
      await page.locator('#agent-lr').dispatchEvent('change');
      await page.fill('#agent-envs', '12');
      await page.locator('#agent-envs').dispatchEvent('change');
      const hash = await page.evaluate(() => location.hash);
      for (const bit of ['tab=agent', `backend=${c.backend}`, 'agentEnv=cartpole', 'agentEnvs=12', 'agentSteps=64', 'agentLr=0.002', 'agentSeed=2']) assert.ok(hash.includes(bit), `${bit} in ${hash}`);
      await page.reload();
      await within(60_000, page.evaluate(() => (globalThis as any).__playground.ready), 'the page to start again');
      await within(60_000, page.evaluate(() => (globalThis as any).__playground.agent.open()), 'the agent to be built again');
      assert.is(await page.inputValue('#agent-lr'), '0.002');
      assert.is(await page.inputValue('#agent-envs'), '12');
      const after = await stats(page);
      assert.is(after.updates, 0, 'a reload starts training afresh');
      figures.push(`${c.backend}: ${st.updates} updates (${st.steps} env steps, ${Math.round(st.stepsPerSec)} steps/s); mean return per update ${means.map((m) => m.toFixed(0)).join(' ')}; `
        + `watched greedy episode ${ep.steps} steps in ${(ms / 1000).toFixed(2)} s (${watchFrames} distinct canvas frames, ${captions.length} captions); longest task ${trainLongest.toFixed(0)} ms training, ${longest.toFixed(0)} ms with watching; first two updates from the button ${(trainMs / 1000).toFixed(1)} s`);
      await page.close();
    });
  }

  test('agent: out-of-range settings in the link are corrected; at phone width the tab fits, the keyboard trains with short tasks; Pendulum', async () => {
    const page = await open('#tab=agent&backend=wasm&agentEnvs=999&agentSteps=3&agentLr=5&agentSeed=-4', { width: 390, height: 844 });
    assert.is(await page.inputValue('#agent-envs'), '64');
    assert.is(await page.inputValue('#agent-steps'), '8');
    assert.is(await page.inputValue('#agent-lr'), '0.1');
    assert.is(await page.inputValue('#agent-seed'), '0');
    const texts = (await page.evaluate(() => (globalThis as any).__playground.messages() as { text: string }[])).map((m) => m.text).join('\n');
    for (const bit of ['agent: environments: 999 is out of range', 'agent: steps per environment per update: 3 is out of range', 'agent: learning rate: 5 is out of range']) {
      assert.ok(texts.includes(bit), `"${bit}" in the messages:\n${texts}`);
    }
    const layout = await page.evaluate(() => ({
      overflow: document.documentElement.scrollWidth - innerWidth,
      canvas: document.getElementById('agent-canvas')!.getBoundingClientRect().width,
      chart: document.getElementById('agent-returns')!.getBoundingClientRect().width,
    }));
    assert.ok(layout.overflow <= 0, `the page is ${layout.overflow} px wider than the screen`);
    assert.ok(layout.canvas > 300 && layout.canvas <= 390 && layout.chart > 300, `canvas ${layout.canvas} px, chart ${layout.chart} px wide`);
    // Large updates (16 × 256 steps, 64 minibatches: over half a second of work each on one
    // WASM thread), then Space trains and pauses; the page yields inside every update.
    await page.evaluate(() => (globalThis as any).__playground.update({ agentEnvs: 16, agentSteps: 256, agentLr: 0.003 }));
    await hook(page, 'idle');
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await clearLongTasks(page);
    await page.keyboard.press('Space');
    await watchCanvas(page, async () => (await stats(page)).updates >= 2, 60_000, 'two updates after Space');
    await page.keyboard.press('Space');
    let st = await stats(page);
    assert.ok(st.updates >= 2 && !st.playing, `Space trained ${st.updates} updates, then paused`);
    const tasks = await longTasks(page), longest = Math.max(0, ...tasks);
    // Unpaced, each update would be one task as long as the update (about a second here,
    // more on a loaded machine, which stretches every task alike): the longest must be a fraction of it.
    const updateMs = (4096 / st.stepsPerSec) * 1000;
    figures.push(`phone, wasm, updates of 4,096 steps (${Math.round(updateMs)} ms each): longest task ${Math.round(longest)} ms (${tasks.length} over 50 ms)`);
    assert.ok(longest < Math.max(150, updateMs / 3), `long tasks while training, updates of ${Math.round(updateMs)} ms: ${tasks.map(Math.round).join(', ')} ms`);
    // '.' makes exactly one update (after the one in flight when Space paused).
    const before = (await hook<AgentStats>(page, 'idle')).updates;
    await page.keyboard.press('.');
    assert.is((await hook<AgentStats>(page, 'idle')).updates, before + 1, "'.' made one update");
    await page.screenshot({ path: join(OUT, 'agent-phone.png'), fullPage: true });

    // Pendulum: its own settings, one update (episodes of 200 steps, negative returns), drawn as a pendulum.
    const cart = (await pixels(page, 'agent-canvas')).sum;
    await page.selectOption('#agent-env', 'pendulum');
    assert.equal([await page.inputValue('#agent-envs'), await page.inputValue('#agent-steps'), await page.inputValue('#agent-lr')], ['8', '256', '0.001']);
    assert.ok((await page.evaluate(() => location.hash)).includes('agentEnv=pendulum&agentEnvs=8&agentSteps=256'));
    st = await within(60_000, hook<AgentStats>(page, 'runUpdates', 1), 'one Pendulum update');
    assert.equal([st.env, st.updates, st.steps, st.episodes], ['pendulum', 1, 2048, 8]);
    const hist = await hook<{ episodes: number[] }>(page, 'history');
    assert.ok(hist.episodes.every((r) => r < 0 && r > -200 * 16.3), `Pendulum returns lie in (−3260, 0): ${hist.episodes}`);
    await page.waitForTimeout(100);
    assert.ok((await pixels(page, 'agent-canvas')).sum !== cart, 'the canvas now shows the pendulum');
    // Watching (30 steps/s, Gymnasium's Pendulum speed) stops at the button.
    await page.click('#agent-watch');
    await watchCanvas(page, async () => (await stats(page)).watchSteps >= 10, 10_000, 'ten watched Pendulum steps');
    await page.click('#agent-watch');
    await page.waitForTimeout(200);
    const stopped = await stats(page);
    await page.waitForTimeout(200);
    const later = await stats(page);
    assert.ok(!later.watching && later.watchSteps === stopped.watchSteps && later.watchSteps < 200, `stopped after ${later.watchSteps} steps`);
    assert.ok(later.watchMs >= later.watchSteps * (1000 / 30) - 2, `${later.watchSteps} steps in ${later.watchMs} ms: not faster than 30 steps/s`);
    await page.close();
  });

  test('no console errors in the Agent pages', () => {
    assert.equal(consoleErrors, []);
  });

  test.run();
}
