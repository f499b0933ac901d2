// Detectors inside the stream: anomalies come out as events with the reading's time and value,
// and a gap is found by the stream's wall-clock tick (which reports a state change, so the
// journal records it and a replay makes the same event).
import { describe, expect, it } from 'vitest';
import { createStream, type StreamOutput, type Anomaly } from '../../src/stream/stream.js';

describe('detectors in the stream', () => {
  it('turns a quiet sensor into one gap event on the tick, and a reading re-arms it', () => {
    const stream = createStream([{ match: ['**'], window: { size: 60_000, lateness: 0 }, aggregates: ['count'], detectors: [{ type: 'gap', duration: 300_000, severity: 'critical' }] }]);
    const out: StreamOutput[] = [];
    const t0 = 1_795_000_000_000;
    stream.ingest({ sensor: 'pump/flow', ts: t0, value: 3.2, receivedAt: t0 }, out);
    stream.tick(t0 + 299_000, out); // closes the quiet sensor's window: no gap yet
    expect(out.filter((o) => o.kind === 'anomaly')).toHaveLength(0);
    expect(stream.tick(t0 + 301_000, out)).toBe(true);
    const gaps = out.filter((o): o is Anomaly => o.kind === 'anomaly');
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toMatchObject({ sensor: 'pump/flow', ts: t0 + 301_000, value: 3.2, verdict: { detector: 'gap', severity: 'critical' } });
    out.length = 0;
    stream.tick(t0 + 400_000, out);
    expect(out.filter((o) => o.kind === 'anomaly')).toHaveLength(0);
    // the state survives a checkpoint
    const again = createStream([{ match: ['**'], window: { size: 60_000, lateness: 0 }, aggregates: ['count'], detectors: [{ type: 'gap', duration: 300_000, severity: 'critical' }] }], JSON.parse(JSON.stringify(stream.save())));
    again.ingest({ sensor: 'pump/flow', ts: t0 + 500_000, value: 3.1, receivedAt: t0 + 500_000 }, out);
    expect(again.tick(t0 + 900_000, out)).toBe(true);
  });

  it('emits every detector\'s events for a reading, with the reading\'s time and value', () => {
    const stream = createStream([{ match: ['**'], window: { size: 60_000, lateness: 0 }, aggregates: ['count'], detectors: [
      { type: 'threshold', max: 50, severity: 'critical' },
      { type: 'rate', maxPerSecond: 1, cooldown: 1, severity: 'warning' },
    ] }]);
    const out: StreamOutput[] = [];
    const t0 = 1_795_000_000_000;
    stream.ingest({ sensor: 'boiler', ts: t0, value: 40, receivedAt: t0 }, out);
    stream.ingest({ sensor: 'boiler', ts: t0 + 1000, value: 90, receivedAt: t0 + 1000 }, out);
    expect(out.filter((o): o is Anomaly => o.kind === 'anomaly').map((a) => [a.verdict.detector, a.ts, a.value])).toEqual([
      ['threshold', t0 + 1000, 90],
      ['rate', t0 + 1000, 90],
    ]);
  });
});
