// Projects one accepted log entry into the read model. Every rule is an idempotent upsert that
// gives the same result in any order of a device's messages: a summary's window keeps the best
// version (complete over partial, then the higher seq); a sensor's staleness and a device's
// health keep the latest by their own timestamps; an alert is cleared by any clear of the same
// subject at or after its time, whichever arrives first. Only the status (it carries no time)
// goes by arrival.
import type { Executor } from '../store/sqlite.js';

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
const ms = (iso: unknown) => (typeof iso === 'string' ? Date.parse(iso) : NaN);

async function seen(tx: Executor, device: string, prefix: string, at: number): Promise<void> {
  await tx.run(
    `INSERT INTO devices (device, prefix, last_seen) VALUES (?, ?, ?)
     ON CONFLICT (device) DO UPDATE SET prefix = excluded.prefix, last_seen = max(coalesce(last_seen, 0), excluded.last_seen)`,
    [device, prefix, Number.isFinite(at) ? at : null],
  );
  await tx.run('INSERT INTO prefixes (prefix, device) VALUES (?, ?) ON CONFLICT (prefix) DO UPDATE SET device = excluded.device', [prefix, device]);
}

async function clearAlerts(tx: Executor, device: string, kind: string, subject: string, ts: string): Promise<void> {
  await tx.run('INSERT OR IGNORE INTO clears (device, kind, subject, ts) VALUES (?, ?, ?, ?)', [device, kind, subject, ts]);
  await tx.run("UPDATE alerts SET state = 'cleared' WHERE device = ? AND kind = ? AND subject = ? AND ts <= ? AND state != 'cleared'", [device, kind, subject, ts]);
}

async function openAlert(tx: Executor, e: LogEntry, kind: string, subject: string, ts: string): Promise<void> {
  const cleared = await tx.get<{ n: number }>('SELECT count(*) AS n FROM clears WHERE device = ? AND kind = ? AND subject = ? AND ts >= ?', [e.device, kind, subject, ts]);
  await tx.run('INSERT OR IGNORE INTO alerts (id, device, kind, subject, ts, state, payload) VALUES (?, ?, ?, ?, ?, ?, ?)', [e.key, e.device, kind, subject, ts, cleared!.n > 0 ? 'cleared' : 'open', e.payload]);
}

export async function project(tx: Executor, e: LogEntry): Promise<void> {
  const m = JSON.parse(e.payload) as Json;
  const device = e.device!;
  switch (e.kind) {
    case 'summary': {
      const w = m.window as { start: string; end: string };
      await seen(tx, device, e.prefix, ms(w.end));
      await tx.run(
        `INSERT INTO summaries (device, sensor, start, end, seq, partial, payload) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (device, sensor, start, end) DO UPDATE SET seq = excluded.seq, partial = excluded.partial, payload = excluded.payload
         WHERE excluded.partial < summaries.partial OR (excluded.partial = summaries.partial AND excluded.seq > summaries.seq)`,
        [device, m.sensor, ms(w.start), ms(w.end), e.seq, m.partial === true ? 1 : 0, e.payload],
      );
      return;
    }
    case 'anomaly':
      await seen(tx, device, e.prefix, ms(m.ts));
      await openAlert(tx, e, 'anomaly', String(m.sensor), String(m.ts));
      return;
    case 'event': {
      await seen(tx, device, e.prefix, ms(m.ts));
      if (m.kind === 'stale') {
        const stale = m.state === 'raised' ? 1 : 0;
        await tx.run(
          `INSERT INTO sensor_state (device, sensor, stale, ts, seq) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (device, sensor) DO UPDATE SET stale = excluded.stale, ts = excluded.ts, seq = excluded.seq
           WHERE excluded.ts > sensor_state.ts OR (excluded.ts = sensor_state.ts AND excluded.seq > sensor_state.seq)`,
          [device, m.sensor, stale, m.ts, e.seq],
        );
        if (stale) await openAlert(tx, e, 'stale', String(m.sensor), String(m.ts));
        else await clearAlerts(tx, device, 'stale', String(m.sensor), String(m.ts));
      } else if (m.kind === 'availability') {
        if (m.state === 'offline') await openAlert(tx, e, 'availability', String(m.subject), String(m.ts));
        else await clearAlerts(tx, device, 'availability', String(m.subject), String(m.ts));
      }
      return;
    }
    case 'health':
      await seen(tx, device, e.prefix, ms(m.ts));
      await tx.run('UPDATE devices SET health = ?, health_ts = ? WHERE device = ? AND (health_ts IS NULL OR health_ts < ?)', [e.payload, m.ts, device, m.ts]);
      return;
    case 'status': {
      // No device field: the prefix's device (known from its other messages), else its last level.
      const known = await tx.get<{ device: string }>('SELECT device FROM prefixes WHERE prefix = ?', [e.prefix]);
      const d = known?.device ?? e.prefix.slice(e.prefix.lastIndexOf('/') + 1);
      await tx.run(
        `INSERT INTO devices (device, prefix, status, status_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (device) DO UPDATE SET status = excluded.status, status_at = excluded.status_at WHERE devices.status_at IS NULL OR excluded.status_at >= devices.status_at`,
        [d, e.prefix, m.status, e.receivedAt],
      );
      return;
    }
    case 'ack':
      await tx.run("UPDATE alerts SET state = 'acknowledged', acked_by = ?, acked_at = ? WHERE id = ? AND state = 'open'", [m.by, e.receivedAt, m.id]);
      return;
    default:
      return; // daily reports are kept in the log only
  }
}
