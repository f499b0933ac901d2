// The agent's lifecycle: components start in order and stop in reverse; a component whose
// start failed half-way is stopped too (its stop undoes what happened), a failing stop does not
// keep the others running, and stop runs once however often it is asked for.
import { describe, expect, it } from 'vitest';
import { createLifecycle, type Component } from '../../src/agent/lifecycle.js';
import { silentLogger } from '../../src/ops/logger.js';

const recorder = () => {
  const calls: string[] = [];
  const component = (name: string, o: { failStart?: boolean; failStop?: boolean } = {}): Component => ({
    name,
    async start() {
      calls.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, 1));
      if (o.failStart) throw new Error(`${name} cannot start`);
    },
    async stop() {
      calls.push(`stop ${name}`);
      if (o.failStop) throw new Error(`${name} cannot stop`);
    },
  });
  return { calls, component };
};

describe('lifecycle', () => {
  it('starts in order and stops in reverse, once', async () => {
    const { calls, component } = recorder();
    const l = createLifecycle([component('store'), component('uplink'), component('source')], silentLogger());
    await l.start();
    expect(l.running()).toEqual(['store', 'uplink', 'source']);
    await Promise.all([l.stop(), l.stop()]);
    await l.stop();
    expect(calls).toEqual(['start store', 'start uplink', 'start source', 'stop source', 'stop uplink', 'stop store']);
    expect(l.running()).toEqual([]);
  });

  it('a start that fails half-way: what started, and the one that failed, are stopped; the rest never start', async () => {
    const { calls, component } = recorder();
    const l = createLifecycle([component('store'), component('http', { failStart: true }), component('source')], silentLogger());
    await expect(l.start()).rejects.toThrow('http cannot start');
    await l.stop();
    expect(calls).toEqual(['start store', 'start http', 'stop http', 'stop store']);
  });

  it('a failing stop is reported after every other component has stopped', async () => {
    const { calls, component } = recorder();
    const l = createLifecycle([component('store'), component('writer', { failStop: true }), component('source')], silentLogger());
    await l.start();
    await expect(l.stop()).rejects.toThrow('writer cannot stop');
    expect(calls.slice(3)).toEqual(['stop source', 'stop writer', 'stop store']);
  });

  it('a stop during start abandons the components not yet started', async () => {
    const { calls, component } = recorder();
    const l = createLifecycle([component('store'), component('uplink'), component('source')], silentLogger());
    const starting = l.start();
    const stopped = l.stop();
    await expect(starting).rejects.toThrow(/stopping/);
    await stopped;
    expect(calls).not.toContain('start source');
  });
});
