// Re-running the journal of a time range through a fresh stream of the given pipelines: the
// summaries and anomalies the readings of [from, to) make. A window the range cuts (it starts
// before `from`, or is still open at `to`) lacks readings: its summary is marked partial, so it
// never passes for the complete one a consumer may have. Used by `outpost replay` and by the
// `replay` command (a backfill).
import type { Database } from '../store/sqlite.js';
import { replayJournal } from '../store/journal.js';
import { createStream, type DerivedSpec, type PipelineSpec, type StreamOutput } from '../stream/stream.js';

export interface Rerun {
  outputs: StreamOutput[];
  readings: number;
}

/** More outputs than `range.maxOutputs`: the rerun stopped (the range is too wide for one go). */
export class TooManyOutputs extends Error {}

/**
 * With derived sensors, every reading of the range goes in (a derived sensor needs its inputs)
 * and the outputs are those of the sensors `matches` accepts; rules are not run (a backfill
 * is of summaries and anomalies).
 */
export async function rerunJournal(
  db: Database,
  pipelines: readonly PipelineSpec[],
  range: { from: number; to: number; matches: (sensor: string) => boolean; maxOutputs?: number },
  derived: readonly DerivedSpec[] = [],
): Promise<Rerun> {
  const stream = createStream(pipelines, undefined, { derived });
  const all = derived.length > 0;
  const out: StreamOutput[] = [];
  const outputs: StreamOutput[] = [];
  let readings = 0;
  await replayJournal(db, 0, (e) => {
    if (e.shift) {
      stream.shiftArrivals(e.value);
    } else if (e.availability) {
      // not a reading; availability events are not replayed
    } else if (e.sensor === null) {
      if (e.ts < range.to) stream.tick(e.ts, out); // windows open at `to` stay open: flushed as partial below
    } else if (e.ts >= range.from && e.ts < range.to && (all || range.matches(e.sensor))) {
      if (range.matches(e.sensor)) readings++;
      stream.ingest({ sensor: e.sensor, ts: e.ts, value: e.value, receivedAt: e.receivedAt }, out);
    }
    // Summaries and anomalies of the range; staleness seen by a partial replay is no news.
    for (const o of out) if (o.kind !== 'event' && (!all || range.matches(o.sensor))) outputs.push(o);
    out.length = 0;
    if (range.maxOutputs !== undefined && outputs.length > range.maxOutputs) throw new TooManyOutputs(`more than ${range.maxOutputs}`);
  });
  stream.flush(out); // windows the range ends in: partial
  for (const o of out) if (!all || range.matches(o.sensor)) outputs.push(o);
  for (const o of outputs) if (o.kind === 'summary' && (o.start < range.from || o.end > range.to)) o.partial = true;
  return { outputs, readings };
}
