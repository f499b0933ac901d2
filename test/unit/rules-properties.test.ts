// Properties of rules over generated reading sequences and tick schedules:
// - evaluation is deterministic;
// - replaying the journal (the readings, and only the ticks that changed something, as the
//   agent journals them) from any checkpoint gives the live run's events (what recovery relies on);
// - events do not depend on when ticks fall (what the backtest relies on), for rules on values;
// - derived expressions never throw anything but ExpressionError, whatever text they get.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createStream, type PipelineSpec, type RuleSpec, type StreamOutput, type DerivedSpec } from '../../src/stream/stream.js';
import { compileExpression, ExpressionError } from '../../src/stream/rules/expression.js';

const T = 1_795_428_000_000;
const PIPE: PipelineSpec = { match: ['**'], window: { type: 'tumbling', size: 10_000, lateness: 0 }, aggregates: ['count', 'mean', 'max'], detectors: [], staleAfter: 5_000 };

/** Rules on values only (no staleness, aggregates or rule references: those follow ticks). */
const VALUE_RULES: RuleSpec[] = [
  { id: 'hot', when: { sensor: 'a', above: 5, hysteresis: 1 }, for: 3000, clearAfter: 2000, severity: 'major' },
  { id: 'seq', sequence: [{ sensor: 'a', above: 6 }, { sensor: 'b', below: 2 }], within: 4000, severity: 'critical' },
  { id: 'count', when: { sensor: 'b', eq: 0 }, count: 3, within: 8000, cooldown: 5000, severity: 'info' },
  { id: 'both', when: { all: [{ sensor: 'a', between: [2, 8] }, { not: { sensor: 'c', below: 3 } }] }, cooldown: 3000, severity: 'warning' },
  { id: 'derived-high', when: { sensor: 'ab', above: 12 }, for: 1500, severity: 'warning' },
];
const ALL_RULES: RuleSpec[] = [
  ...VALUE_RULES,
  { id: 'silent', when: { sensor: 'c', stale: true }, severity: 'major' },
  { id: 'mean', when: { sensor: 'a', aggregate: 'mean', above: 5 }, severity: 'info' },
  { id: 'chain', when: { any: [{ rule: 'hot' }, { rule: 'silent' }] }, for: 1000, severity: 'critical' },
];
const DERIVED: DerivedSpec[] = [{ sensor: 'ab', expr: 'a + b * 2', maxAge: 3000 }];

type Op = { reading: true; sensor: string; value: number; dt: number; lag: number } | { reading: false; dt: number };

const ops = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: fc.record({ reading: fc.constant(true as const), sensor: fc.constantFrom('a', 'b', 'c'), value: fc.integer({ min: -1, max: 10 }), dt: fc.integer({ min: 0, max: 1500 }), lag: fc.integer({ min: 0, max: 3000 }) }) },
    { weight: 2, arbitrary: fc.record({ reading: fc.constant(false as const), dt: fc.integer({ min: 1, max: 2000 }) }) },
  ),
  { minLength: 1, maxLength: 120 },
);

type Entry = { sensor: string; ts: number; value: number; at: number } | { tick: number };

/** Runs ops live: the events, the journal as the agent keeps it, and the state after each op. */
function live(rules: RuleSpec[], list: Op[]) {
  const stream = createStream([PIPE], undefined, { rules, derived: DERIVED });
  const events: string[] = [];
  const journal: Entry[] = [];
  const states: Array<{ saved: string; journalLength: number; events: number }> = [];
  let now = T;
  const out: StreamOutput[] = [];
  for (const op of list) {
    now += op.dt;
    if (op.reading) {
      const r = { sensor: op.sensor, ts: now - op.lag, value: op.value, receivedAt: now };
      stream.ingest(r, out);
      journal.push({ sensor: r.sensor, ts: r.ts, value: r.value, at: now });
    } else if (stream.tick(now, out)) journal.push({ tick: now });
    for (const o of out.splice(0)) if (o.kind === 'event' && o.type === 'rule') events.push(JSON.stringify(o));
    states.push({ saved: JSON.stringify(stream.save()), journalLength: journal.length, events: events.length });
  }
  return { events, journal, states };
}

function replay(rules: RuleSpec[], journal: Entry[], from = 0, saved?: string, extraTicks: number[] = []) {
  const stream = createStream([PIPE], saved === undefined ? undefined : JSON.parse(saved), { rules, derived: DERIVED });
  const events: string[] = [];
  const out: StreamOutput[] = [];
  const ticks = [...extraTicks];
  for (const e of journal.slice(from)) {
    const at = 'tick' in e ? e.tick : e.at;
    while (ticks.length > 0 && ticks[0]! < at) stream.tick(ticks.shift()!, out);
    if ('tick' in e) stream.tick(e.tick, out);
    else stream.ingest({ sensor: e.sensor, ts: e.ts, value: e.value, receivedAt: e.at }, out);
  }
  for (const t of ticks) stream.tick(t, out);
  for (const o of out) if (o.kind === 'event' && o.type === 'rule') events.push(JSON.stringify(o));
  return events;
}

describe('rules: properties', () => {
  it('evaluation is deterministic for a reading sequence and tick schedule', () => {
    fc.assert(
      fc.property(ops, (list) => {
        expect(live(ALL_RULES, list).events).toEqual(live(ALL_RULES, list).events);
      }),
      { numRuns: 500 },
    );
  });

  it('replaying the journal from any checkpoint gives the live run\'s events, none twice, none lost', () => {
    fc.assert(
      fc.property(ops, fc.nat(), (list, cutSeed) => {
        const run = live(ALL_RULES, list);
        expect(replay(ALL_RULES, run.journal)).toEqual(run.events);
        const cut = run.states[cutSeed % run.states.length]!;
        expect(replay(ALL_RULES, run.journal, cut.journalLength, cut.saved)).toEqual(run.events.slice(cut.events));
      }),
      { numRuns: 500 },
    );
  });

  it('rules on values raise and clear at the same moments whenever the ticks fall (the backtest\'s premise)', () => {
    fc.assert(
      fc.property(ops, fc.integer({ min: 1, max: 999 }), (list, phase) => {
        // Both runs end with a tick well after the last reading, so neither misses a pending moment.
        const run = live(VALUE_RULES, [...list, { reading: false, dt: 30_000 }]);
        const readings = run.journal.filter((e) => !('tick' in e));
        const end = T + list.reduce((n, op) => n + op.dt, 0) + 30_000;
        const grid: number[] = [];
        for (let t = T + phase; t < end; t += 1000) grid.push(t);
        grid.push(end);
        // Order may differ (a moment noticed by a reading of another sensor, or by a tick); what and when may not.
        const sort = (xs: string[]) => [...xs].sort();
        expect(sort(replay(VALUE_RULES, readings, 0, undefined, grid))).toEqual(sort(run.events));
      }),
      { numRuns: 500 },
    );
  });

  it('an expression of any text compiles or is refused with an ExpressionError; it never runs anything', () => {
    const pieces = fc.constantFrom('a/b', 'x', '1', '2.5', '+', '-', '*', ' / ', '%', '(', ')', ',', '?', ':', '==', '&&', '!', 'min', 'max(', 'dewpoint', 'process', '.exit', 'constructor', '__proto__', '[0]', '"s"', '`q r`', 'this', 'pi', 'e', ' ', 'globalThis', 'eval', 'Function', '=>', '=', ';', '{', '}');
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 60 }), fc.array(pieces, { maxLength: 12 }).map((xs) => xs.join(''))), (text) => {
        try {
          const e = compileExpression(text);
          const v = e.evaluate(e.inputs.map((_, i) => i + 1));
          expect(typeof v).toBe('number');
        } catch (err) {
          expect(err).toBeInstanceOf(ExpressionError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
