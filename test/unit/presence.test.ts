// Staleness from a sensor's own cadence, and device availability: events when they change,
// none when nothing does, and state that survives a checkpoint.
import { describe, expect, it } from 'vitest';
import { createStaleness, DEFAULT_STALE, type StaleEvent } from '../../src/stream/staleness.js';
import { createAvailability, type AvailabilityEvent } from '../../src/stream/availability.js';
import { createStream, type StreamOutput } from '../../src/stream/stream.js';

const T = 1_795_428_000_000;

describe('staleness', () => {
  it('learns the cadence, raises after 3 x the median interval (at least a minute) and clears at the next reading', () => {
    const s = createStaleness();
    const out: StaleEvent[] = [];
    // every 30 s, with jitter: median 30 s, limit 90 s
    const arrivals = [0, 30, 61, 90, 119, 150, 181, 210, 240].map((x) => T + x * 1000);
    for (const a of arrivals) s.observe('pump/flow', a, DEFAULT_STALE, out);
    const last = arrivals.at(-1)!;
    expect(s.tick(last + 90_000, () => DEFAULT_STALE, out)).toBe(false);
    expect(s.tick(last + 90_001, () => DEFAULT_STALE, out)).toBe(true);
    expect(out).toEqual([{ kind: 'event', type: 'stale', sensor: 'pump/flow', ts: last + 90_001, state: 'raised', silentForMs: 90_001, limitMs: 90_000, lastSeen: last }]);
    expect(s.tick(last + 200_000, () => DEFAULT_STALE, out)).toBe(false); // raised once
    s.observe('pump/flow', last + 300_000, DEFAULT_STALE, out);
    expect(out[1]).toEqual({ kind: 'event', type: 'stale', sensor: 'pump/flow', ts: last + 300_000, state: 'cleared', silentForMs: 300_000, limitMs: 90_000, lastSeen: last });
    expect(s.raised()).toBe(0);
    // The long silence did not teach it that five minutes is normal.
    expect(s.tick(last + 300_000 + 90_001, () => DEFAULT_STALE, out)).toBe(true);
  });
  it('judges nothing before 8 intervals; at least a minute for fast sensors; a fixed limit at once; readings of one message are no cadence', () => {
    const s = createStaleness();
    const out: StaleEvent[] = [];
    for (let i = 0; i < 8; i++) s.observe('fast', T + i * 100, DEFAULT_STALE, out);
    expect(s.tick(T + 3_600_000, () => DEFAULT_STALE, out)).toBe(false); // 7 intervals only
    s.observe('fast', T + 800, DEFAULT_STALE, out);
    expect(s.tick(T + 800 + 60_000, () => DEFAULT_STALE, out)).toBe(false);
    expect(s.tick(T + 800 + 60_001, () => DEFAULT_STALE, out)).toBe(true);
    const fixed = { ...DEFAULT_STALE, staleAfterMs: 5_000 };
    s.observe('door', T, fixed, out);
    expect(s.tick(T + 5_001, () => fixed, out)).toBe(true);
    const burst = createStaleness();
    for (let i = 0; i < 20; i++) burst.observe('pack', T, DEFAULT_STALE, out);
    expect(burst.save()[0]![1].intervals).toEqual([]);
  });
  it('a stream restored from its checkpoint judges exactly as the live one (a full ring, then more intervals)', () => {
    const live = createStaleness();
    const out: StaleEvent[] = [];
    let t = T;
    for (let i = 0; i < 16; i++) live.observe('s', (t += 10_000), DEFAULT_STALE, out);
    for (let i = 0; i < 5; i++) live.observe('s', (t += 30_000), DEFAULT_STALE, out);
    const restored = createStaleness(JSON.parse(JSON.stringify(live.save())));
    for (let i = 0; i < 6; i++) {
      t += 30_000;
      live.observe('s', t, DEFAULT_STALE, out);
      restored.observe('s', t, DEFAULT_STALE, out);
    }
    expect(restored.save()).toEqual(live.save());
    const a: StaleEvent[] = [];
    const b: StaleEvent[] = [];
    for (let dt = 1000; dt < 200_000; dt += 1000) {
      live.tick(t + dt, () => DEFAULT_STALE, a);
      restored.tick(t + dt, () => DEFAULT_STALE, b);
    }
    expect(b).toEqual(a);
    expect(a).toHaveLength(1);
  });
  it('a raised sensor forgotten by idle eviction still clears when it returns', () => {
    const s = createStaleness();
    const out: StaleEvent[] = [];
    const fixed = { ...DEFAULT_STALE, staleAfterMs: 1000 };
    s.observe('x', T, fixed, out);
    s.tick(T + 2000, () => fixed, out);
    s.forget('x');
    s.observe('x', T + 9_000_000, fixed, out);
    expect(out.map((e) => e.state)).toEqual(['raised', 'cleared']);
  });
  it('survives a checkpoint: a raised sensor clears after a restart', () => {
    const s = createStaleness();
    const out: StaleEvent[] = [];
    s.observe('x', T, { ...DEFAULT_STALE, staleAfterMs: 1000 }, out);
    s.tick(T + 2000, () => ({ ...DEFAULT_STALE, staleAfterMs: 1000 }), out);
    const restored = createStaleness(JSON.parse(JSON.stringify(s.save())));
    expect(restored.raisedSensors(10)).toEqual(['x']);
    restored.observe('x', T + 10_000, DEFAULT_STALE, out);
    expect(out.at(-1)).toMatchObject({ state: 'cleared', sensor: 'x', silentForMs: 10_000 });
  });
});

describe('availability', () => {
  it('an event for the first report and for each change; none for a repeat', () => {
    const a = createAvailability();
    const out: AvailabilityEvent[] = [];
    expect(a.report('zigbee/Küche Fenster', true, T, out)).toBe(true);
    expect(a.report('zigbee/Küche Fenster', true, T + 1, out)).toBe(false);
    expect(a.report('zigbee/Küche Fenster', false, T + 2, out)).toBe(true);
    expect(out).toEqual([
      { kind: 'event', type: 'availability', sensor: 'zigbee/Küche Fenster', ts: T, state: 'online' },
      { kind: 'event', type: 'availability', sensor: 'zigbee/Küche Fenster', ts: T + 2, state: 'offline', previousSince: T },
    ]);
    const restored = createAvailability(JSON.parse(JSON.stringify(a.save())));
    expect(restored.report('zigbee/Küche Fenster', false, T + 3, out)).toBe(false); // a retained repeat after a restart
    expect(restored.offline()).toBe(1);
  });
});

describe('the stream with presence', () => {
  it('stale events per pipeline setting (off, fixed), restored from a checkpoint', () => {
    const specs = [
      { match: ['quiet/**'], window: { type: 'tumbling' as const, size: 60_000, lateness: 0 }, aggregates: ['count' as const], detectors: [], staleAfter: 'off' as const },
      { match: ['**'], window: { type: 'tumbling' as const, size: 60_000, lateness: 0 }, aggregates: ['count' as const], detectors: [], staleAfter: 10_000 },
    ];
    const st = createStream(specs);
    const out: StreamOutput[] = [];
    st.ingest({ sensor: 'quiet/a', ts: T, value: 1, receivedAt: T }, out);
    st.ingest({ sensor: 'loud/a', ts: T, value: 1, receivedAt: T }, out);
    st.tick(T + 10_001, out);
    expect(out.filter((o) => o.kind === 'event')).toEqual([expect.objectContaining({ type: 'stale', sensor: 'loud/a', state: 'raised' })]);
    expect(st.presence(10)).toEqual({ stale: ['loud/a'], staleCount: 1, offline: 0 });
    const again = createStream(specs, JSON.parse(JSON.stringify(st.save())));
    const out2: StreamOutput[] = [];
    again.ingest({ sensor: 'loud/a', ts: T + 20_000, value: 1, receivedAt: T + 20_000 }, out2);
    expect(out2.filter((o) => o.kind === 'event')).toEqual([expect.objectContaining({ type: 'stale', sensor: 'loud/a', state: 'cleared' })]);
  });
});

describe('a checkpoint from before staleness', () => {
  it('replays without stale events (as the old version ran), and the stream rebuilt from it judges', () => {
    const specs = [{ match: ['**'], window: { type: 'tumbling' as const, size: 60_000, lateness: 0 }, aggregates: ['count' as const], detectors: [], staleAfter: 1000 }];
    const old = createStream(specs, { pipelines: [] }); // an older checkpoint: no presence
    const out: StreamOutput[] = [];
    old.ingest({ sensor: 'a', ts: T, value: 1, receivedAt: T }, out);
    old.tick(T + 5000, out);
    expect(out.filter((o) => o.kind === 'event')).toEqual([]);
    const rebuilt = createStream(specs, JSON.parse(JSON.stringify(old.save())));
    rebuilt.ingest({ sensor: 'a', ts: T + 6000, value: 1, receivedAt: T + 6000 }, out);
    rebuilt.tick(T + 8000, out);
    expect(out.filter((o) => o.kind === 'event')).toEqual([expect.objectContaining({ type: 'stale', sensor: 'a', state: 'raised' })]);
  });
});
