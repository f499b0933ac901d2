// `outpost deadletter replay`: dead letters go back through the agent, as if they arrived now
// (after a fix: a new pipeline, a higher limit, a corrected sensor). An MQTT message goes back
// to its source with its topic; an input refused after parsing (a limit, a timestamp) goes back
// as the reading it was. Rows are deleted only after the replayed input is committed; one that
// is still bad becomes a new dead letter. Nothing is lost if the agent dies in between: at
// worst a row is replayed twice.
import type { Database } from '../store/sqlite.js';
import type { GroupCommit } from '../store/group-commit-types.js';
import { deadLetterWhere, type DeadLetterRow } from '../store/dead-letters.js';
import type { Source, SourceSink } from '../sources/source.js';

export interface ReplayFilter {
  reason?: string;
  ids?: number[];
  limit?: number;
}

export interface ReplayResult {
  replayed: number;
  skipped: Array<{ id: number; why: string }>;
}

export interface ReplayDeps {
  db: Database;
  sources: readonly Source[];
  sinkFor: (source: string) => SourceSink;
  writer: GroupCommit;
  clock: () => number;
}

export async function replayDeadLetters(d: ReplayDeps, f: ReplayFilter): Promise<ReplayResult> {
  const { sql, params } = deadLetterWhere(f);
  const rows = await d.db.all<DeadLetterRow>(`SELECT * FROM dead_letters ${sql} ORDER BY id LIMIT ?`, [...params, f.limit ?? 10_000]);
  const done: number[] = [];
  const skipped: ReplayResult['skipped'] = [];
  for (const row of rows) {
    const why = replayOne(d, row);
    if (why) skipped.push({ id: row.id, why });
    else done.push(row.id);
  }
  await d.writer.flush();
  for (let i = 0; i < done.length; i += 500) {
    const chunk = done.slice(i, i + 500);
    await d.db.run(`DELETE FROM dead_letters WHERE id IN (${chunk.map(() => '?').join(',')})`, chunk);
  }
  return { replayed: done.length, skipped };
}

/** undefined when replayed; else why not. */
function replayOne(d: ReplayDeps, row: DeadLetterRow): string | undefined {
  if (!row.payload) return 'no payload was kept';
  if (row.detail.includes('(payload cut to')) return 'only the start of the payload was kept';
  const source = d.sources.find((s) => s.name === row.source);
  if (row.topic !== null) {
    if (!source?.redeliver) return `source ${row.source} is not in the current config`;
    source.redeliver(row.topic, Buffer.from(row.payload));
    return undefined;
  }
  let r: { sensor?: unknown; ts?: unknown; value?: unknown };
  try {
    r = JSON.parse(Buffer.from(row.payload).toString('utf8')) as typeof r;
  } catch {
    return 'payload is not a reading';
  }
  if (typeof r.sensor !== 'string' || typeof r.value !== 'number') return 'payload is not a reading';
  const now = d.clock();
  d.sinkFor(row.source).reading({ sensor: r.sensor, value: r.value, ts: typeof r.ts === 'number' ? r.ts : now, receivedAt: now, stamped: typeof r.ts !== 'number' });
  return undefined;
}
