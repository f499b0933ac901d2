// A backtest of rules (`outpost rules test`): the journal's readings, in the order the agent
// took them, through a fresh stream of the given pipelines, rules and derived sensors, ticked
// every second of wall clock between them (as a running agent ticks) and at the ticks the agent
// journaled. Rule times are exact moments, not tick times (rules/rule-state.ts), so a backtest of
// the rules that ran gives the events they sent; rules on staleness and window aggregates follow
// the ticks and agree to within a second. The journal covers what storage.journal keeps (its
// retention and maxBytes); the state before its oldest reading is unknown.
import type { Database } from '../store/sqlite.js';
import { replayJournal } from '../store/journal.js';
import { createStream, type DerivedSpec, type PipelineSpec, type RuleEvent, type RuleSpec, type StreamOutput } from '../stream/stream.js';

export interface Backtest {
  /** Rule events with ts in [from, to). */
  events: RuleEvent[];
  readings: number;
  /** Arrival times of the first and last reading run (epoch ms), or null without any. */
  first: number | null;
  last: number | null;
  /** Rules still raised at the end. */
  raised: string[];
}

const TICK_MS = 1000;

export async function backtestRules(db: Database, specs: { pipelines: readonly PipelineSpec[]; rules: readonly RuleSpec[]; derived: readonly DerivedSpec[] }, range: { from: number; to: number }): Promise<Backtest> {
  const stream = createStream(specs.pipelines, undefined, { rules: specs.rules, derived: specs.derived });
  const events: RuleEvent[] = [];
  const out: StreamOutput[] = [];
  let readings = 0;
  let first: number | null = null;
  let last: number | null = null;
  let clock: number | null = null; // the wall clock the run has reached
  let done = false;
  const collect = () => {
    for (const o of out) if (o.kind === 'event' && o.type === 'rule' && o.ts >= range.from && o.ts < range.to) events.push(o);
    out.length = 0;
  };
  /** Ticks every whole second after the clock, up to (not including) `until`. */
  const tickUntil = (until: number) => {
    if (clock !== null) for (let t = (Math.floor(clock / TICK_MS) + 1) * TICK_MS; t < until && t < range.to; t += TICK_MS) stream.tick(t, out);
    clock = Math.max(clock ?? until, until);
    collect();
  };
  await replayJournal(db, 0, (e) => {
    if (done) return;
    if (e.shift) {
      stream.shiftArrivals(e.value);
      if (clock !== null) clock += e.value;
      return;
    }
    const at = e.sensor === null || e.availability ? e.ts : e.receivedAt;
    if (at >= range.to) {
      tickUntil(range.to);
      done = true;
      return;
    }
    tickUntil(at);
    if (e.availability) stream.availability(e.sensor!, e.value === 1, e.ts, out);
    else if (e.sensor === null) stream.tick(e.ts, out);
    else {
      stream.ingest({ sensor: e.sensor, ts: e.ts, value: e.value, receivedAt: e.receivedAt }, out);
      readings++;
      first ??= e.receivedAt;
      last = e.receivedAt;
    }
    collect();
  });
  return { events, readings, first, last, raised: stream.rulesRaised().map((r) => r.rule) };
}
