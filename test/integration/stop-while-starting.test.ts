// A SIGTERM at any moment of a start stops the agent, cleanly and soon: while the config is
// read, while the parts start, and in the instant the start completes (where a signal used to
// be lost, and the agent ran on until a second one). Real processes, real signals.
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { start } from '../helpers/cli.js';
import { tempDir } from '../helpers/agent-config.js';
import { freePort } from '../helpers/ports.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

async function config(): Promise<string> {
  const dir = tempDir();
  writeFileSync(
    join(dir, 'a.yaml'),
    `
device: { id: stop-01 }
broker: { host: 127.0.0.1, port: ${await freePort()} }
sources: [ { type: simulated, sensors: [ { id: sim/a, rateHz: 10 } ] } ]
pipelines: [ { match: ["**"], window: { type: tumbling, size: 1s }, detectors: [ { type: novelty } ] } ]
uplink: { url: "mqtt://127.0.0.1:1" }
storage: { path: ./o.db }
http: { enabled: true, host: 127.0.0.1, port: 0 }
`,
  );
  return join(dir, 'a.yaml');
}

/** Starts the agent, sends SIGTERM `after` ms after `line` appears in its log; how it ended. */
async function stopAt(line: RegExp | null, after: number) {
  const p = start(['run', '--config', await config()]);
  cleanups.push(() => p.child.kill('SIGKILL'));
  if (line) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${line} in: ${p.output()}`)), 20_000);
      p.child.stdout!.on('data', () => {
        if (line.test(p.output())) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }
  await new Promise((r) => setTimeout(r, after));
  const sent = Date.now();
  p.child.kill('SIGTERM');
  const ended = await Promise.race([p.done, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 10_000))]);
  return { ended, tookMs: Date.now() - sent, log: p.output() };
}

/** Waits until `line` is in the agent's output (or fails with it). */
function waitForLine(p: ReturnType<typeof start>, line: RegExp, ms = 20_000): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${line} in: ${p.output().slice(-800)}`)), ms);
    const check = () => {
      if (line.test(p.output())) {
        clearTimeout(timer);
        resolve();
      }
    };
    p.child.stdout!.on('data', check);
    check();
  });
}

describe('SIGHUP while starting', () => {
  it('does not end the agent (its default action would): the reload asked for is done once it serves', async () => {
    for (const [line, after] of [[null, 400], [/local broker listening/, 0]] as const) {
      const p = start(['run', '--config', await config()]);
      cleanups.push(() => p.child.kill('SIGKILL'));
      if (line) await waitForLine(p, line);
      else await new Promise((r) => setTimeout(r, after));
      p.child.kill('SIGHUP');
      await waitForLine(p, /SIGHUP: config checked/);
      await waitForLine(p, /"msg":"outpost running"[\s\S]*"msg":"outpost running"/); // started again on it
      p.child.kill('SIGTERM');
      const ended = await Promise.race([p.done, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 10_000))]);
      expect(ended, `SIGHUP ${line ?? `${after} ms after the spawn`}`).toMatchObject({ code: 0, signal: null });
    }
  }, 60_000);
});

describe('SIGTERM while starting', () => {
  it('before and while the config is read: ends within seconds (0, or the signal itself before any handler exists)', async () => {
    for (const after of [50, 250, 450, 650]) {
      const r = await stopAt(null, after);
      expect(r.ended, `SIGTERM ${after} ms after the spawn`).not.toBe('still running');
      const { code, signal } = r.ended as { code: number | null; signal: string | null };
      expect(code === 0 || signal === 'SIGTERM', `${after} ms: ${JSON.stringify(r.ended)} ${r.log.slice(-400)}`).toBe(true);
    }
  }, 60_000);

  it('in the instant the start completes, and while the parts start: stops cleanly within seconds, every time', async () => {
    // The broker's listener opens just before the start completes; the signal lands 0-40 ms after.
    for (const [line, after] of [[/local broker listening/, 0], [/local broker listening/, 3], [/local broker listening/, 8], [/local broker listening/, 15], [/outpost running/, 0], [/outpost running/, 2], [/uplink error/, 0], [/uplink error/, 5]] as const) {
      const r = await stopAt(line, after);
      expect(r.ended, `SIGTERM ${after} ms after ${line}: ${r.log.slice(-800)}`).toMatchObject({ code: 0, signal: null });
      expect(r.log).toMatch(/"msg":"(stopping|stopping while starting)"/);
      expect(r.log).toMatch(/"msg":"outpost stopped"/);
    }
  }, 120_000);
});
