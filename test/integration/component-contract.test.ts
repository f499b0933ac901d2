// One contract suite run against every source and every output (as MQTT.js runs one abstract
// store suite against each store): start and stop are idempotent, a stop without a start is
// harmless, a stopped source hands over nothing more, a stopped output has flushed (the uplink
// delivered what it held, an alarm pin is off), and health has the same shape everywhere.
import { afterEach, describe, expect, it } from 'vitest';
import type { Source, SourceSink } from '../../src/sources/source.js';
import type { Reading } from '../../src/stream/reading.js';
import type { Output } from '../../src/outputs/output.js';
import type { Outbox, OutboxRow } from '../../src/store/outbox.js';
import type { GpioDriver, Level } from '../../src/gpio/gpio-driver.js';
import { createMqttSource } from '../../src/sources/mqtt/mqtt-source.js';
import { createSimulatedSource } from '../../src/sources/simulated/simulated-source.js';
import { createGpioSource } from '../../src/sources/gpio/gpio-source.js';
import { createSimulatedGpioDriver } from '../../src/gpio/simulated-driver.js';
import { startEmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { createForwarder } from '../../src/outputs/uplink/forwarder.js';
import { uplinkOutput } from '../../src/outputs/uplink/uplink-output.js';
import { gpioAlarmOutput } from '../../src/outputs/gpio-alarms/gpio-alarm-output.js';
import { homeAssistantOutput } from '../../src/outputs/home-assistant/home-assistant-output.js';
import { silentLogger } from '../../src/ops/logger.js';
import { startFleet } from '../helpers/fleet.js';
import { baseYaml, testConfig } from '../helpers/agent-config.js';
import { connectPublisher } from '../helpers/publisher.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const collecting = () => {
  const got: Reading[] = [];
  const sink: SourceSink = { reading: (r) => void got.push(r), reject: () => undefined, ready: () => undefined, durable: () => Promise.resolve(), availability: () => undefined };
  return { got, sink };
};

/** Each source with a way to make it produce a reading. */
const SOURCES: Record<string, () => Promise<{ source: Source; poke: () => Promise<void> }>> = {
  mqtt: async () => {
    const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, log: silentLogger(), allowAnonymousWildcards: true });
    cleanups.push(() => broker.close());
    const source = createMqttSource({ topic: 'sensors/#', format: 'auto', maxPayloadBytes: 16_384, feed: broker, clock: Date.now, ackAfterCommit: true });
    return {
      source,
      poke: async () => {
        const pub = await connectPublisher(broker.port);
        await pub.publishAsync('sensors/a', '21.5', { qos: 1 }).catch(() => undefined);
        await pub.endAsync();
      },
    };
  },
  simulated: async () => ({
    source: createSimulatedSource({ sensors: [{ id: 'sim/t', rateHz: 100, shape: 'sine', base: 20, amplitude: 2, period: 60_000, noise: 0.1, anomalies: [] }], seed: 1, clock: Date.now }),
    poke: () => new Promise((r) => setTimeout(r, 50)),
  }),
  gpio: async () => ({
    source: createGpioSource({ pin: 17, sensor: 'door/open', edge: 'both', debounceMs: 0, activeLow: false, mode: 'state', interval: 10_000, scale: 1, driver: createSimulatedGpioDriver(), clock: Date.now }),
    poke: () => new Promise((r) => setTimeout(r, 20)),
  }),
};

describe.each(Object.keys(SOURCES))('source contract: %s', (name) => {
  it('start, then stop twice; a stopped source hands over nothing more', async () => {
    const { source, poke } = await SOURCES[name]!();
    const { got, sink } = collecting();
    expect(typeof source.name).toBe('string');
    expect(source.health()).toMatchObject({ running: false });
    await source.start(sink);
    expect(source.health()).toMatchObject({ running: true });
    expect(JSON.parse(JSON.stringify(source.health()))).toEqual(source.health()); // JSON-safe
    await poke();
    await waitFor(`${name} produces a reading`, () => got.length > 0, 5_000);
    await source.stop();
    await source.stop(); // idempotent
    expect(source.health()).toMatchObject({ running: false });
    const after = got.length;
    await poke();
    await new Promise((r) => setTimeout(r, 100));
    expect(got.length).toBe(after);
  });

  it('a stop without a start is harmless', async () => {
    const { source } = await SOURCES[name]!();
    await expect(source.stop()).resolves.toBeUndefined();
  });
});

function memoryOutbox(n: number) {
  const rows = new Map<number, OutboxRow>();
  for (let s = 1; s <= n; s++) rows.set(s, { seq: s, kind: 'summary', sensor: 's', payload: `{"v":1,"id":"c-01:${s}"}`, bytes: 20 });
  const outbox = {
    nextSeq: () => n + 1,
    readAfter: async (kind: string, after: number, limit: number) => (kind === 'summary' ? [...rows.values()].filter((r) => r.seq > after).slice(0, limit) : []),
    remove: async (seqs: readonly number[]) => seqs.filter((s) => rows.delete(s)).length,
    stats: async () => ({ rows: rows.size, bytes: 0, oldestCreatedAt: null }),
    handedUpTo: () => 0,
    markHanded: async () => undefined,
  } as unknown as Outbox;
  return { rows, outbox };
}

/** A GPIO driver that records what each output pin was driven to. */
function recordingDriver() {
  const levels = new Map<number, Level[]>();
  const driver: GpioDriver = {
    openInput: () => Promise.reject(new Error('no inputs here')),
    openOutput: async (pin) => {
      levels.set(pin, []);
      return { write: async (l: Level) => void levels.get(pin)!.push(l), close: () => undefined };
    },
  };
  return { driver, levels };
}

const OUTPUTS: Record<string, () => Promise<{ output: Output; flushed: () => boolean; load: () => void; ready?: () => boolean }>> = {
  uplink: async () => {
    const fleet = await startFleet();
    cleanups.push(() => fleet.stop());
    const { rows, outbox } = memoryOutbox(200);
    const cfg = testConfig(baseYaml({ fleetUrl: fleet.url }).replace('uplink: { url:', 'uplink: { maxRate: 0, url:'));
    const f = createForwarder({ uplink: cfg.uplink, outbox, log: silentLogger(), clock: Date.now });
    // What it holds when it is stopped online is delivered (offline, it stays in the outbox for the next start).
    return { output: uplinkOutput(f), load: () => f.wake(), ready: () => f.status().state === 'online', flushed: () => rows.size === 0 && new Set(fleet.ids()).size === 200 };
  },
  'home-assistant': async () => {
    // The uplink's live channel, recorded (always connected).
    const published: Array<{ topic: string; payload: string; retain: boolean }> = [];
    const live = { publish: (topic: string, payload: string, retain: boolean) => published.push({ topic, payload, retain }) > 0, onConnect: () => undefined, watch: () => undefined };
    const output = homeAssistantOutput({ device: 'c-01', topicPrefix: 'outpost/c-01', prefix: 'homeassistant', maxSensors: 10, version: 'test', live, known: () => [], debounceMs: 60_000 });
    return {
      output,
      load: () => output.onSummary!({ kind: 'summary', sensor: 'barn/temp', start: 0, end: 1000, count: 1, values: { mean: 1 }, late: 0, partial: false }),
      // The new sensor's announcement, waiting for its debounce, went out at the stop, retained.
      flushed: () => published.at(-1)!.retain && Object.keys((JSON.parse(published.at(-1)!.payload) as { cmps: object }).cmps).length === 2,
    };
  },
  'gpio-alarms': async () => {
    const { driver, levels } = recordingDriver();
    const output = gpioAlarmOutput([{ pin: 26, sensors: ['freezer/*'], detectors: [], severity: 'warning', minOnTime: 60_000, activeLow: false }], driver, silentLogger());
    return {
      output,
      load: () => output.onAnomaly!({ kind: 'anomaly', sensor: 'freezer/1', ts: Date.now(), value: 9, verdict: { detector: 'threshold', severity: 'critical', score: 1, message: 'too warm', evidence: {} } }),
      flushed: () => levels.get(26)!.at(-1) === 0, // off at stop, though its minimum on-time had not passed
    };
  },
};

describe.each(Object.keys(OUTPUTS))('output contract: %s', (name) => {
  it('start twice, load, stop twice: the stop has flushed; health has one shape', async () => {
    const { output, load, flushed, ready } = await OUTPUTS[name]!();
    expect(output.name).toBe(name);
    expect(output.health()).toMatchObject({ running: false });
    await output.start();
    await output.start(); // idempotent
    expect(output.health()).toMatchObject({ running: true });
    if (ready) await waitFor(`${name} ready`, ready, 5_000);
    load();
    await output.stop(5_000);
    await output.stop(5_000); // idempotent
    expect(flushed()).toBe(true);
    expect(output.health()).toMatchObject({ running: false });
    expect(JSON.parse(JSON.stringify(output.health()))).toEqual(output.health()); // JSON-safe
  });

  it('a stop without a start is harmless', async () => {
    const { output } = await OUTPUTS[name]!();
    await expect(output.stop(100)).resolves.toBeUndefined();
  });
});
