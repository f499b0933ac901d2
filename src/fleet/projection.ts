// Projects one accepted log entry into the read model. Every rule is an idempotent upsert that
// gives the same result in any order of a device's messages: a summary's window keeps the best
// version (complete over partial, then the higher seq, except that a backfill never replaces
// what the device sent live); a sensor's staleness and a device's
// health keep the latest by their own timestamps; an alert is cleared by any clear of the same
// subject at or after its time, whichever arrives first. Only the status (it carries no time)
// goes by arrival.
import type { Executor } from '../store/sqlite.js';
import { projectCommand } from './command-projection.js';

export interface LogEntry {
  key: string;
  kind: string;
  device: string | null;
  seq: number | null;
  prefix: string;
  payload: string;
  receivedAt: number;
}

type Json = Record<string, unknown>;

/**
 * When an incoming version of a window replaces the one kept: complete over partial, then what
 * the device sent live over a backfill, then the higher seq. A total order, so any arrival
 * order keeps the same version.
 */
const REPLAYED = (t: string) => `(json_extract(${t}.payload, '$.replayed') IS NOT NULL)`;
const BETTER_SUMMARY = `excluded.partial < summaries.partial OR (excluded.partial = summaries.partial AND (${REPLAYED('excluded')} < ${REPLAYED('summaries')} OR (${REPLAYED('excluded')} = ${REPLAYED('summaries')} AND excluded.seq > summaries.seq)))`;
/** A window's versions are counted; the best one is kept (SET sees the row as it was, so each CASE asks the same question). */
const UPSERT_SUMMARY = `ON CONFLICT (device, sensor, start, end) DO UPDATE SET versions = summaries.versions + 1,
  seq = CASE WHEN ${BETTER_SUMMARY} THEN excluded.seq ELSE summaries.seq END,
  partial = CASE WHEN ${BETTER_SUMMARY} THEN excluded.partial ELSE summaries.partial END,
  payload = CASE WHEN ${BETTER_SUMMARY} THEN excluded.payload ELSE summaries.payload END`;
const ms = (iso: unknown) => (typeof iso === 'string' ? Date.parse(iso) : NaN);

/**
 * Devices heard from in a batch, with the latest time their messages carry: written once per
 * device per batch (flushSeen), not once per message.
 */
export type Seen = Map<string, { prefix: string; at: number }>;

function seen(batch: Seen, device: string, prefix: string, at: number): void {
  const was = batch.get(device);
  const t = Number.isFinite(at) ? at : 0;
  if (!was || t > was.at) batch.set(device, { prefix, at: Math.max(t, was?.at ?? 0) });
}

export async function flushSeen(tx: Executor, batch: Seen): Promise<void> {
  // In device order, like the batch (no deadlock between instances).
  for (const [device, { prefix, at }] of [...batch].sort(([a], [b]) => a.localeCompare(b))) {
    await tx.run(
      `INSERT INTO devices (device, prefix, last_seen) VALUES (?, ?, ?)
       ON CONFLICT (device) DO UPDATE SET prefix = excluded.prefix, last_seen = max(coalesce(devices.last_seen, 0), coalesce(excluded.last_seen, 0))`,
      [device, prefix, at > 0 ? at : null],
    );
    await tx.run('INSERT INTO prefixes (prefix, device) VALUES (?, ?) ON CONFLICT (prefix) DO UPDATE SET device = excluded.device', [prefix, device]);
  }
  batch.clear();
}

async function clearAlerts(tx: Executor, key: string, device: string, kind: string, subject: string, ts: string): Promise<void> {
  // Two clears at one time: the smaller key stands, whatever order they came in.
  await tx.run('INSERT INTO clears (device, kind, subject, ts, key) VALUES (?, ?, ?, ?, ?) ON CONFLICT (device, kind, subject, ts) DO UPDATE SET key = min(clears.key, excluded.key)', [device, kind, subject, ts, key]);
  await tx.run("UPDATE alerts SET state = 'cleared' WHERE device = ? AND kind = ? AND subject = ? AND ts <= ? AND state != 'cleared'", [device, kind, subject, ts]);
}

async function openAlert(tx: Executor, e: LogEntry, kind: string, subject: string, ts: string): Promise<void> {
  const cleared = await tx.get<{ n: number }>('SELECT count(*) AS n FROM clears WHERE device = ? AND kind = ? AND subject = ? AND ts >= ?', [e.device, kind, subject, ts]);
  await tx.run('INSERT OR IGNORE INTO alerts (id, device, kind, subject, ts, state, payload) VALUES (?, ?, ?, ?, ?, ?, ?)', [e.key, e.device, kind, subject, ts, cleared!.n > 0 ? 'cleared' : 'open', e.payload]);
}

export async function project(tx: Executor, e: LogEntry, batch: Seen): Promise<void> {
  const m = JSON.parse(e.payload) as Json;
  const device = e.device!;
  switch (e.kind) {
    case 'summary': {
      const w = m.window as { start: string; end: string };
      seen(batch, device, e.prefix, ms(w.end));
      await tx.runPrepared(
        `INSERT INTO summaries (device, sensor, start, end, seq, partial, payload) VALUES (?, ?, ?, ?, ?, ?, ?) ${UPSERT_SUMMARY}`,
        [device, m.sensor, ms(w.start), ms(w.end), e.seq, m.partial === true ? 1 : 0, e.payload],
      );
      return;
    }
    case 'anomaly':
      seen(batch, device, e.prefix, ms(m.ts));
      await openAlert(tx, e, 'anomaly', String(m.sensor), String(m.ts));
      return;
    case 'event': {
      seen(batch, device, e.prefix, ms(m.ts));
      if (m.kind === 'stale') {
        const stale = m.state === 'raised' ? 1 : 0;
        await tx.run(
          `INSERT INTO sensor_state (device, sensor, stale, ts, seq) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (device, sensor) DO UPDATE SET stale = excluded.stale, ts = excluded.ts, seq = excluded.seq
           WHERE excluded.ts > sensor_state.ts OR (excluded.ts = sensor_state.ts AND excluded.seq > sensor_state.seq)`,
          [device, m.sensor, stale, m.ts, e.seq],
        );
        if (stale) await openAlert(tx, e, 'stale', String(m.sensor), String(m.ts));
        else await clearAlerts(tx, e.key, device, 'stale', String(m.sensor), String(m.ts));
      } else if (m.kind === 'rule') {
        if (m.state === 'raised') await openAlert(tx, e, 'rule', String(m.rule), String(m.ts));
        else await clearAlerts(tx, e.key, device, 'rule', String(m.rule), String(m.ts));
      } else if (m.kind === 'availability') {
        if (m.state === 'offline') await openAlert(tx, e, 'availability', String(m.subject), String(m.ts));
        else await clearAlerts(tx, e.key, device, 'availability', String(m.subject), String(m.ts));
      }
      return;
    }
    case 'health':
      seen(batch, device, e.prefix, ms(m.ts));
      await tx.run(
        `INSERT INTO devices (device, prefix, health, health_ts) VALUES (?, ?, ?, ?)
         ON CONFLICT (device) DO UPDATE SET health = excluded.health, health_ts = excluded.health_ts WHERE devices.health_ts IS NULL OR devices.health_ts < excluded.health_ts`,
        [device, e.prefix, e.payload, m.ts],
      );
      return;
    case 'status':
      await tx.run(
        `INSERT INTO prefix_status (prefix, status, status_at) VALUES (?, ?, ?)
         ON CONFLICT (prefix) DO UPDATE SET status = excluded.status, status_at = excluded.status_at WHERE excluded.status_at >= prefix_status.status_at`,
        [e.prefix, m.status, e.receivedAt],
      );
      return;
    case 'ack':
      await tx.run("UPDATE alerts SET state = 'acknowledged', acked_by = ?, acked_at = ? WHERE id = ? AND state = 'open'", [m.by, e.receivedAt, m.id]);
      return;
    case 'command':
    case 'command-sent':
    case 'cmd-result':
      if (e.kind === 'cmd-result') seen(batch, device, e.prefix, ms(m.ts));
      return projectCommand(tx, e);
    default:
      return; // daily reports are kept in the log only
  }
}

const SUMMARY_ROWS = 100; // 7 parameters each: well under SQLite's limit

/**
 * project() for a batch, in order: summaries go in multi-row upserts (SQLite applies the rows
 * in order, so the same rules hold), the rest one by one.
 */
export async function projectBatch(tx: Executor, entries: readonly LogEntry[], batch: Seen): Promise<void> {
  let rows: unknown[][] = [];
  // One statement never upserts a window twice (PostgreSQL refuses that; SQLite would apply both in order).
  const windows = new Set<string>();
  const flush = async () => {
    windows.clear();
    if (rows.length === 0) return;
    await tx.run(
      `INSERT INTO summaries (device, sensor, start, end, seq, partial, payload) VALUES ${rows.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')} ${UPSERT_SUMMARY}`,
      rows.flat(),
    );
    rows = [];
  };
  for (const e of entries) {
    if (e.kind !== 'summary') {
      await project(tx, e, batch);
      continue;
    }
    const m = JSON.parse(e.payload) as Json;
    const w = m.window as { start: string; end: string };
    seen(batch, e.device!, e.prefix, ms(w.end));
    const key = JSON.stringify([e.device, m.sensor, w.start, w.end]);
    if (windows.has(key)) await flush();
    windows.add(key);
    rows.push([e.device, m.sensor, ms(w.start), ms(w.end), e.seq, m.partial === true ? 1 : 0, e.payload]);
    if (rows.length >= SUMMARY_ROWS) await flush();
  }
  await flush();
}
