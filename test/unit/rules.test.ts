// Rules through the stream stage, time injected: every construct (for, sequence, count,
// hysteresis, clearAfter, cooldown, staleness, aggregates, rule-on-rule) raises and clears when
// a user would expect, with the evidence it used; and the state survives save/restore exactly.
import { describe, expect, it } from 'vitest';
import { createStream, type PipelineSpec, type RuleEvent, type RuleSpec, type Stream, type StreamOutput } from '../../src/stream/stream.js';

const T = 1_795_428_000_000;
const S = 1000;
const M = 60_000;
const PIPE: PipelineSpec = { match: ['**'], window: { type: 'tumbling', size: 60_000, lateness: 0 }, aggregates: ['count', 'mean', 'max'], detectors: [], staleAfter: 30_000 };

/** A stream with `rules`, fed readings and ticks at explicit times; collects rule events. */
function rig(rules: RuleSpec[], pipelines: PipelineSpec[] = [PIPE]) {
  let stream: Stream = createStream(pipelines, undefined, { rules });
  const events: RuleEvent[] = [];
  const collect = (out: StreamOutput[]) => {
    for (const o of out) if (o.kind === 'event' && o.type === 'rule') events.push(o);
  };
  return {
    events,
    read(at: number, sensor: string, value: number, ts = at) {
      const out: StreamOutput[] = [];
      stream.ingest({ sensor, ts, value, receivedAt: at }, out);
      collect(out);
    },
    tick(at: number) {
      const out: StreamOutput[] = [];
      const changed = stream.tick(at, out);
      collect(out);
      return changed;
    },
    /** Ticks every second from `from` to `to` (inclusive). */
    ticks(from: number, to: number) {
      for (let t = from; t <= to; t += S) this.tick(t);
    },
    restart() {
      stream = createStream(pipelines, JSON.parse(JSON.stringify(stream.save())), { rules });
    },
    raised: () => stream.rulesRaised().map((r) => r.rule),
    states: () => events.map((e) => `${e.sensor}:${e.state}@${(e.ts - T) / S}`),
  };
}

const warm: RuleSpec = { id: 'warm', when: { sensor: 'fridge/temp', above: 8 }, for: 5 * M, severity: 'major' };

describe('rules: for', () => {
  it('raises once the condition has held for the whole duration, within a tick of it, with when it began and the values it read', () => {
    const r = rig([warm]);
    r.read(T, 'fridge/temp', 9);
    r.ticks(T + S, T + 5 * M - S);
    expect(r.events).toEqual([]);
    r.tick(T + 5 * M);
    expect(r.events).toEqual([{ kind: 'event', type: 'rule', sensor: 'warm', ts: T + 5 * M, state: 'raised', severity: 'major', since: T, values: { 'fridge/temp': 9 } }]);
    r.ticks(T + 5 * M + S, T + 6 * M);
    expect(r.events).toHaveLength(1); // raised once
    r.read(T + 6 * M + 500, 'fridge/temp', 7);
    expect(r.events[1]).toMatchObject({ state: 'cleared', ts: T + 6 * M + 500, since: T, raisedAt: T + 5 * M, values: { 'fridge/temp': 7 } });
  });
  it('a hold that breaks starts again: held, broken, held again', () => {
    const r = rig([warm]);
    r.read(T, 'fridge/temp', 9);
    r.ticks(T + S, T + 4 * M);
    r.read(T + 4 * M + 1, 'fridge/temp', 7.9); // broken
    r.read(T + 4 * M + 2, 'fridge/temp', 8.5); // held again from here
    r.ticks(T + 4 * M + S, T + 9 * M);
    expect(r.states()).toEqual([]);
    r.ticks(T + 9 * M + S, T + 9 * M + 2 * S);
    expect(r.events).toHaveLength(1);
    expect(r.events[0]).toMatchObject({ state: 'raised', since: T + 4 * M + 2, ts: T + 9 * M + 2 }); // the exact moment, noticed at the next tick
  });
  it('while raised, for does not apply again: a dip shorter than clearAfter keeps it raised', () => {
    const r = rig([{ ...warm, clearAfter: 30 * S }]);
    r.read(T, 'fridge/temp', 9);
    r.ticks(T + S, T + 5 * M);
    r.read(T + 5 * M + 100, 'fridge/temp', 7);
    r.ticks(T + 5 * M + S, T + 5 * M + 20 * S);
    r.read(T + 5 * M + 20 * S + 1, 'fridge/temp', 9); // back within clearAfter
    r.ticks(T + 5 * M + 21 * S, T + 7 * M);
    expect(r.states()).toEqual(['warm:raised@300']);
    r.read(T + 7 * M + 1, 'fridge/temp', 7);
    r.ticks(T + 7 * M + S, T + 7 * M + 29 * S);
    expect(r.events).toHaveLength(1);
    r.tick(T + 7 * M + 30 * S + 1);
    expect(r.states()).toEqual(['warm:raised@300', 'warm:cleared@450.001']); // false at 420.001, plus 30 s
  });
});

describe('rules: hysteresis', () => {
  it('above 8 with hysteresis 0.5 is true above 8 and false again only at or below 7.5', () => {
    const r = rig([{ id: 'h', when: { sensor: 't', above: 8, hysteresis: 0.5 }, severity: 'warning' }]);
    const seq = [7.9, 8.1, 7.8, 7.6, 8.2, 7.5, 7.7, 8.0, 8.01];
    seq.forEach((v, i) => r.read(T + i * S, 't', v));
    expect(r.states()).toEqual(['h:raised@1', 'h:cleared@5', 'h:raised@8']);
  });
  it('below and between have hysteresis on the side they return from', () => {
    const r = rig([
      { id: 'low', when: { sensor: 'f', below: 0.1, hysteresis: 0.05 }, severity: 'warning' },
      { id: 'band', when: { sensor: 'g', between: [10, 20], hysteresis: 1 }, severity: 'warning' },
    ]);
    [0.2, 0.09, 0.14, 0.16].forEach((v, i) => r.read(T + i * S, 'f', v));
    [9, 10, 20.5, 21.5].forEach((v, i) => r.read(T + (10 + i) * S, 'g', v));
    expect(r.states()).toEqual(['low:raised@1', 'low:cleared@3', 'band:raised@11', 'band:cleared@13']);
  });
});

describe('rules: sequence', () => {
  const dry: RuleSpec = { id: 'dry-run', sequence: [{ sensor: 'pump/current', above: 2 }, { sensor: 'pump/flow', below: 0.1 }], within: 30 * S, severity: 'critical' };
  it('in order within the span: raised at the last step, since the first, cleared when the last step ends', () => {
    const r = rig([dry]);
    r.read(T, 'pump/flow', 1);
    r.read(T + S, 'pump/current', 2.5);
    r.read(T + 20 * S, 'pump/flow', 0.05);
    expect(r.events[0]).toMatchObject({ state: 'raised', ts: T + 20 * S, since: T + S, values: { 'pump/current': 2.5, 'pump/flow': 0.05 } });
    r.read(T + 40 * S, 'pump/flow', 0.5);
    expect(r.states()).toEqual(['dry-run:raised@20', 'dry-run:cleared@40']);
  });
  it('out of order is nothing; too late is nothing; the same moment is not "then"', () => {
    const r = rig([dry]);
    r.read(T, 'pump/flow', 0.05); // B first
    r.read(T + S, 'pump/current', 3); // then A: out of order
    r.ticks(T + 2 * S, T + 40 * S);
    expect(r.events).toEqual([]);
    r.read(T + 41 * S, 'pump/flow', 1);
    r.read(T + 50 * S, 'pump/current', 1);
    r.read(T + 60 * S, 'pump/current', 3); // A
    r.read(T + 91 * S, 'pump/flow', 0.05); // B 31 s later: too late
    expect(r.events).toEqual([]);
    const same = rig([{ id: 'same', sequence: [{ sensor: 'x', above: 1 }, { sensor: 'x', above: 2 }], within: 10 * S, severity: 'info' }]);
    same.read(T, 'x', 5); // both steps become true at once
    expect(same.events).toEqual([]);
    same.read(T + S, 'x', 1.5); // step 2 ends; step 1 (became true at T) still counts
    same.read(T + 2 * S, 'x', 3); // step 2 becomes true after step 1 did: in order
    expect(same.states()).toEqual(['same:raised@2']);
  });
});

describe('rules: count', () => {
  it('N occurrences within the span raise; it clears when the oldest falls out', () => {
    const r = rig([{ id: 'door-flaps', when: { sensor: 'door', eq: 1 }, count: 3, within: 10 * M, severity: 'info' }]);
    for (let i = 0; i < 3; i++) {
      r.read(T + i * 2 * M, 'door', 1);
      r.read(T + i * 2 * M + S, 'door', 0);
    }
    expect(r.states()).toEqual(['door-flaps:raised@240']);
    expect(r.events[0]!.since).toBe(T);
    r.ticks(T + 4 * M + 2 * S, T + 10 * M);
    expect(r.events).toHaveLength(1);
    r.tick(T + 10 * M + 1);
    expect(r.states()).toEqual(['door-flaps:raised@240', 'door-flaps:cleared@600']); // when the first fell out
  });
  it('a value held true counts once', () => {
    const r = rig([{ id: 'c', when: { sensor: 'door', eq: 1 }, count: 2, within: 10 * M, severity: 'info' }]);
    for (let i = 0; i < 10; i++) r.read(T + i * S, 'door', 1);
    expect(r.events).toEqual([]);
  });
});

describe('rules: cooldown, staleness, aggregates, rule on rule', () => {
  it('cooldown: true again within the cooldown raises when it ends, if still true; not if it cleared meanwhile', () => {
    const r = rig([{ id: 'hot', when: { sensor: 't', above: 70 }, cooldown: 10 * M, severity: 'warning' }]);
    r.read(T, 't', 71);
    r.read(T + M, 't', 60);
    r.read(T + 2 * M, 't', 75); // true again, within the cooldown
    r.ticks(T + 2 * M + S, T + 10 * M - S);
    expect(r.states()).toEqual(['hot:raised@0', 'hot:cleared@60']);
    r.tick(T + 10 * M);
    expect(r.states()).toEqual(['hot:raised@0', 'hot:cleared@60', 'hot:raised@600']);
    expect(r.events[2]!.since).toBe(T + 2 * M);
    r.read(T + 11 * M, 't', 60);
    r.read(T + 12 * M, 't', 75);
    r.read(T + 13 * M, 't', 60); // cleared before the cooldown ended
    r.ticks(T + 13 * M + S, T + 21 * M);
    expect(r.events).toHaveLength(4);
  });
  it('stale: true raises with the sensor\'s staleness and clears at its next reading', () => {
    const r = rig([{ id: 'silent', when: { sensor: 'probe', stale: true }, severity: 'major' }]);
    r.read(T, 'probe', 1);
    r.ticks(T + S, T + 30 * S);
    expect(r.events).toEqual([]);
    r.tick(T + 31 * S);
    expect(r.states()).toEqual(['silent:raised@31']);
    r.read(T + 40 * S, 'probe', 2);
    expect(r.states()).toEqual(['silent:raised@31', 'silent:cleared@40']);
  });
  it('aggregate: the latest complete window\'s mean, judged when the window closes', () => {
    const r = rig([{ id: 'mean-hot', when: { sensor: 't', aggregate: 'mean', above: 10 }, severity: 'warning' }]);
    r.read(T, 't', 5);
    r.read(T + 10 * S, 't', 20); // open window: mean 12.5, not judged yet
    expect(r.events).toEqual([]);
    r.read(T + M + S, 't', 0, T + M + S); // closes [T, T+60s)
    expect(r.events[0]).toMatchObject({ state: 'raised', values: { 'mean(t)': 12.5 } });
  });
  it('rule on rule: true while the other is raised, stepped right after it', () => {
    const r = rig([
      { id: 'door-open', when: { sensor: 'door', eq: 1 }, for: 2 * M, severity: 'info' },
      { id: 'warm-and-open', when: { all: [{ rule: 'door-open' }, { sensor: 'temp', above: 8 }] }, severity: 'major' },
    ]);
    r.read(T, 'temp', 9);
    r.read(T + S, 'door', 1);
    r.ticks(T + 2 * S, T + 2 * M + S);
    expect(r.states()).toEqual(['door-open:raised@121', 'warm-and-open:raised@121']);
    r.read(T + 3 * M, 'door', 0);
    expect(r.states()).toEqual(['door-open:raised@121', 'warm-and-open:raised@121', 'door-open:cleared@180', 'warm-and-open:cleared@180']);
  });
  it('an older reading arriving late changes nothing; a missing sensor is false', () => {
    const r = rig([{ id: 'a', when: { any: [{ sensor: 'x', above: 1 }, { not: { sensor: 'y', above: 0 } }] }, severity: 'info' }]);
    r.read(T, 'x', 0);
    expect(r.states()).toEqual(['a:raised@0']); // y never read: "y above 0" is false, so not(...) is true
    r.read(T + S, 'y', 1);
    expect(r.states()).toEqual(['a:raised@0', 'a:cleared@1']);
    r.read(T + 2 * S, 'y', -1, T - M); // older than y's latest
    expect(r.events).toHaveLength(2);
  });
});

describe('rules: state', () => {
  it('a checkpoint taken half-way through a for: the restored stream raises at the same moment, once, with the original start', () => {
    const live = rig([warm]);
    const restored = rig([warm]);
    live.read(T, 'fridge/temp', 9);
    restored.read(T, 'fridge/temp', 9);
    live.ticks(T + S, T + 2 * M);
    restored.ticks(T + S, T + 2 * M);
    restored.restart();
    live.ticks(T + 2 * M + S, T + 7 * M);
    restored.ticks(T + 2 * M + S, T + 7 * M);
    expect(restored.events).toEqual(live.events);
    expect(restored.events).toHaveLength(1);
    restored.restart();
    expect(restored.raised()).toEqual(['warm']);
  });
  it('ticks that change a rule report a change (they are journaled); quiet ones do not', () => {
    const r = rig([warm]);
    r.read(T, 'fridge/temp', 9);
    expect(r.tick(T + S)).toBe(false);
    expect(r.tick(T + 5 * M)).toBe(true);
    expect(r.tick(T + 5 * M + S)).toBe(false);
  });
  it('a rule removed or changed while raised is cleared at the hand-over', () => {
    const r = rig([warm]);
    r.read(T, 'fridge/temp', 9);
    r.tick(T + 5 * M);
    const saved = r.raised();
    expect(saved).toEqual(['warm']);
    const out: StreamOutput[] = [];
    const s1 = createStream([PIPE], undefined, { rules: [warm] });
    s1.ingest({ sensor: 'fridge/temp', ts: T, value: 9, receivedAt: T }, out);
    s1.tick(T + 5 * M, out);
    const s2 = createStream([PIPE], JSON.parse(JSON.stringify(s1.save())), { rules: [{ ...warm, for: 10 * M }] });
    out.length = 0;
    s2.retireRules(T + 6 * M, out);
    expect(out).toEqual([expect.objectContaining({ type: 'rule', sensor: 'warm', state: 'cleared', raisedAt: T + 5 * M, message: 'the rule was removed or changed in the config' })]);
    expect(s2.rulesRaised()).toEqual([]);
  });
});

describe('rules and derived sensors: hostile cases', () => {
  it('a derived sensor reading another is computed once per reading, never from a new and an old input', () => {
    const derived = [
      { sensor: 't/diff', expr: 't/f - t/c' }, // reads t/f, which is derived from t/c
      { sensor: 't/f', expr: 'c_to_f(t/c)' },
    ];
    const odd: RuleSpec = { id: 'odd', when: { all: [{ sensor: 't/c', above: 30 }, { sensor: 't/f', below: 80 }] }, severity: 'critical' };
    const stream = createStream([PIPE], undefined, { rules: [odd], derived });
    const out: StreamOutput[] = [];
    stream.ingest({ sensor: 't/c', ts: T, value: 20, receivedAt: T }, out);
    stream.ingest({ sensor: 't/c', ts: T + S, value: 31, receivedAt: T + S }, out);
    stream.flush(out);
    const diffs = out.filter((o) => o.kind === 'summary' && o.sensor === 't/diff');
    expect(diffs).toEqual([expect.objectContaining({ count: 2, values: expect.objectContaining({ max: 56.8 }) })]); // 68 - 20 = 48, then 87.8 - 31 = 56.8
    expect(out.filter((o) => o.kind === 'event' && o.type === 'rule')).toEqual([]); // 31 °C is 87.8 °F: the rule can never hold
  });

  it('a wide, deep grid of derived sensors costs one computation each per reading', () => {
    const derived = [{ sensor: 'g/0/0', expr: 's/in + 1' }, { sensor: 'g/0/1', expr: 's/in * 2' }, { sensor: 'g/0/2', expr: 's/in - 1' }];
    for (let level = 1; level < 15; level++) for (let k = 0; k < 3; k++) derived.push({ sensor: `g/${level}/${k}`, expr: `g/${level - 1}/0 + g/${level - 1}/1 + g/${level - 1}/2` });
    const stream = createStream([PIPE], undefined, { derived });
    const out: StreamOutput[] = [];
    stream.ingest({ sensor: 's/in', ts: T, value: 1, receivedAt: T }, out);
    stream.ingest({ sensor: 's/in', ts: T + S, value: 2, receivedAt: T + S }, out);
    stream.flush(out);
    const counts = out.filter((o) => o.kind === 'summary' && o.sensor.startsWith('g/')).map((o) => (o as { count: number }).count);
    expect(counts).toHaveLength(45);
    expect(new Set(counts)).toEqual(new Set([2]));
  });

  it('derived values beyond what a sensor could send make no reading', () => {
    const stream = createStream([PIPE], undefined, { derived: [{ sensor: 'p/x', expr: 'pow(raw/v, 101)' }] });
    const out: StreamOutput[] = [];
    stream.ingest({ sensor: 'raw/v', ts: T, value: 10, receivedAt: T }, out);
    stream.ingest({ sensor: 'raw/v', ts: T + S, value: 2, receivedAt: T + S }, out);
    stream.flush(out);
    expect(out.filter((o) => o.kind === 'summary' && o.sensor === 'p/x').map((o) => (o as { count: number }).count)).toEqual([1]);
  });

  it('a clock step back keeps agent-stamped readings counting; holds keep their length through a step', () => {
    const r = rig([{ id: 'hot', when: { sensor: 't', above: 80 }, clearAfter: 2 * M, severity: 'warning' }]);
    const stream = createStream([PIPE], undefined, { rules: [warm] });
    const out: StreamOutput[] = [];
    stream.ingest({ sensor: 'fridge/temp', ts: T, value: 9, receivedAt: T }, out);
    stream.tick(T + 2 * M, out);
    stream.shiftArrivals(-3_600_000); // the clock stepped back an hour after 2 minutes of the hold
    const back = T + 2 * M - 3_600_000;
    stream.ingest({ sensor: 'fridge/temp', ts: back + S, value: 9.5, receivedAt: back + S }, out); // stamped by the agent: older than the latest
    stream.tick(back + 3 * M - S, out);
    expect(out.filter((o) => o.kind === 'event' && o.type === 'rule')).toEqual([]);
    stream.tick(back + 3 * M, out); // 5 minutes of hold in all
    expect(out.filter((o) => o.kind === 'event' && o.type === 'rule')).toEqual([expect.objectContaining({ state: 'raised', ts: back + 3 * M, since: T - 3_600_000, values: { 'fridge/temp': 9.5 } })]);
    void r;
  });

  it('stale conditions are false for a sensor never heard; changing only message or severity keeps a hold', () => {
    const never = rig([{ id: 'n', when: { sensor: 'never/seen', stale: false }, severity: 'info' }]);
    never.ticks(T, T + 10 * S);
    expect(never.events).toEqual([]);
    const a = createStream([PIPE], undefined, { rules: [warm] });
    const out: StreamOutput[] = [];
    a.ingest({ sensor: 'fridge/temp', ts: T, value: 9, receivedAt: T }, out);
    a.tick(T + 2 * M, out);
    const b = createStream([PIPE], JSON.parse(JSON.stringify(a.save())), { rules: [{ ...warm, severity: 'critical', message: 'reworded' }] });
    b.retireRules(T + 2 * M, out);
    b.tick(T + 5 * M, out);
    expect(out.filter((o) => o.kind === 'event' && o.type === 'rule')).toEqual([expect.objectContaining({ state: 'raised', since: T, severity: 'critical', message: 'reworded' })]);
  });
});
