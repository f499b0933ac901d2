// What the API answers, read from the projections (and the log's seqs for gaps).
import type { Database } from '../store/sqlite.js';
import { downsample, type SummaryPoint } from './downsample.js';

const iso = (ms: number | null) => (ms === null || !Number.isFinite(ms) || ms <= 0 ? null : new Date(ms).toISOString());

export interface Gaps {
  missing: number;
  /** Up to 20 [first, last] seq ranges missing between seqs seen. */
  ranges: Array<[number, number]>;
}

/**
 * Ids missing between the ids seen, from the device's current database on (its health's
 * uplink.firstSeq: a new database starts at the clock in microseconds, a jump that is no loss).
 * Ids merged or dropped under a device's byte budget never come: they stay missing (its health
 * counts merges and evictions).
 */
export async function gapsOf(db: Database, device: string): Promise<Gaps> {
  const health = await db.get<{ health: string | null }>('SELECT health FROM devices WHERE device = ?', [device]);
  const firstSeq = Number((health?.health ? (JSON.parse(health.health) as { uplink?: { firstSeq?: unknown } }) : undefined)?.uplink?.firstSeq ?? 0) || 0;
  const rows = await db.all<{ seq: number; next: number }>(
    'SELECT seq, next FROM (SELECT seq, lead(seq) OVER (ORDER BY seq) AS next FROM log WHERE device = ? AND seq >= ?) AS s WHERE next > seq + 1',
    [device, firstSeq],
  );
  // Ranges a replay backfilled (a command sent to close them, answered done) are no gap any more.
  const filled = await db.all<{ first: number; last: number }>('SELECT first, last FROM backfills WHERE device = ?', [device]);
  const open = rows.map((r): [number, number] => [r.seq + 1, r.next - 1]).filter(([a, b]) => !filled.some((f) => f.first <= a && b <= f.last));
  return { missing: open.reduce((n, [a, b]) => n + (b - a + 1), 0), ranges: open.slice(0, 20) };
}

interface DeviceRow {
  device: string;
  prefix: string | null;
  status: string | null;
  last_seen: number | null;
  health: string | null;
}

/** A device row with its prefix's status (kept per prefix: fleet-schema.ts). */
const DEVICE_SELECT = 'SELECT d.device, d.prefix, ps.status, d.last_seen, d.health FROM devices d LEFT JOIN prefix_status ps ON ps.prefix = d.prefix';

async function deviceView(db: Database, r: DeviceRow) {
  const health = r.health ? (JSON.parse(r.health) as { backlog?: unknown }) : null;
  const open = await db.get<{ n: number }>("SELECT count(*) AS n FROM alerts WHERE device = ? AND state = 'open'", [r.device]);
  return {
    device: r.device,
    prefix: r.prefix,
    status: r.status === 'online' || r.status === 'offline' ? r.status : 'unknown',
    lastSeen: iso(r.last_seen),
    backlog: health?.backlog ?? null,
    openAnomalies: open?.n ?? 0,
    gaps: await gapsOf(db, r.device),
    health,
  };
}

export async function listDevices(db: Database) {
  const rows = await db.all<DeviceRow>(`${DEVICE_SELECT} ORDER BY d.device`);
  return Promise.all(rows.map((r) => deviceView(db, r)));
}

export async function getDevice(db: Database, device: string) {
  const r = await db.get<DeviceRow>(`${DEVICE_SELECT} WHERE d.device = ?`, [device]);
  if (!r) return undefined;
  const sensors = await db.all<{ sensor: string; payload: string; stale: number | null }>(
    `SELECT s.sensor, s.payload, st.stale FROM summaries s
       JOIN (SELECT sensor, max(end) AS end FROM summaries WHERE device = ? GROUP BY sensor) l ON l.sensor = s.sensor AND l.end = s.end
       LEFT JOIN sensor_state st ON st.device = s.device AND st.sensor = s.sensor
     WHERE s.device = ? ORDER BY s.sensor`,
    [device, device],
  );
  const seen = new Set<string>();
  const list = sensors.filter((x) => !seen.has(x.sensor) && seen.add(x.sensor)).map((x) => ({ sensor: x.sensor, lastSummary: JSON.parse(x.payload) as unknown, stale: x.stale === 1 }));
  const view = await deviceView(db, r);
  return { ...view, gapSpans: await gapSpans(db, device, view.gaps.ranges), sensors: list };
}

/** The time a logged message speaks of: a summary's window (its end, or start), else its ts. */
async function timeOf(db: Database, device: string, seq: number, edge: 'start' | 'end'): Promise<string | null> {
  const row = await db.get<{ payload: string }>('SELECT payload FROM log WHERE device = ? AND seq = ?', [device, seq]);
  if (!row) return null;
  const m = JSON.parse(row.payload) as { window?: { start: string; end: string }; ts?: string };
  return m.window ? m.window[edge] : (m.ts ?? null);
}

/**
 * Each gap with the times around it (the message before it and the one after): the range a
 * replay must cover to backfill it (the dashboard's "backfill" button).
 */
async function gapSpans(db: Database, device: string, ranges: Array<[number, number]>) {
  return Promise.all(ranges.map(async ([first, last]) => ({ first, last, from: await timeOf(db, device, first - 1, 'end'), to: await timeOf(db, device, last + 1, 'start') })));
}

export async function sensorSummaries(db: Database, device: string, sensor: string, from: number, to: number, points: number): Promise<SummaryPoint[]> {
  const rows = await db.all<{ payload: string }>('SELECT payload FROM summaries WHERE device = ? AND sensor = ? AND end > ? AND start < ? ORDER BY start, end', [device, sensor, from, to]);
  return downsample(
    rows.map((r) => JSON.parse(r.payload) as Record<string, unknown>),
    points,
  );
}

export async function listAlerts(db: Database, state: string | undefined, device: string | undefined) {
  const rows = await db.all<{ id: string; device: string; kind: string; subject: string; ts: string; state: string; payload: string; acked_by: string | null; acked_at: number | null }>(
    `SELECT * FROM alerts WHERE (CAST(? AS TEXT) IS NULL OR state = ?) AND (CAST(? AS TEXT) IS NULL OR device = ?) ORDER BY ts DESC, id LIMIT 500`,
    [state ?? null, state ?? null, device ?? null, device ?? null],
  );
  return rows.map((r) => ({ id: r.id, device: r.device, kind: r.kind, subject: r.subject, ts: r.ts, state: r.state, ackedBy: r.acked_by, ackedAt: iso(r.acked_at), message: JSON.parse(r.payload) as unknown }));
}

export async function listDeadLetters(db: Database) {
  const rows = await db.all<{ id: number; received_at: number; topic: string; reason: string; detail: string; payload: string | null }>('SELECT * FROM dead_letters ORDER BY id DESC LIMIT 500');
  const total = await db.get<{ n: number }>('SELECT count(*) AS n FROM dead_letters');
  return { total: total?.n ?? 0, latest: rows.map((r) => ({ id: r.id, receivedAt: iso(r.received_at), topic: r.topic, reason: r.reason, detail: r.detail, payload: r.payload })) };
}
