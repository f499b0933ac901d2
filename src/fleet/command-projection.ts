// Commands in the read model, projected from the log like everything else: `command` (issued
// by this fleet: who, what, until when; a gap it backfills), `command-sent` (the fleet broker
// took it) and `cmd-result` (a device's reply). A command's state only moves forward
// (pending < sent < accepted < a final status), and the first final reply stands, so any order
// of arrival gives the same row. `timed-out` is not stored: it is read from expires_at.
import type { Executor } from '../store/sqlite.js';
import type { LogEntry } from './projection.js';

export const COMMANDS_SCHEMA = `
CREATE TABLE IF NOT EXISTS commands (
  id TEXT PRIMARY KEY, device TEXT NOT NULL, prefix TEXT, name TEXT NOT NULL, args TEXT,
  issued_by TEXT, issued_at INTEGER, expires_at INTEGER,
  state TEXT NOT NULL, rank INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  result TEXT, error TEXT, replies TEXT NOT NULL DEFAULT '[]',
  closes_gap TEXT                             -- [first, last] seqs a replay was sent to backfill
);
CREATE INDEX IF NOT EXISTS commands_device ON commands (device, issued_at);
CREATE TABLE IF NOT EXISTS backfills (device TEXT NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL, command TEXT NOT NULL, PRIMARY KEY (device, first, last));
`;

const RANK: Record<string, number> = { pending: 0, sent: 1, accepted: 2, done: 3, failed: 3, rejected: 3, expired: 3 };

type Json = Record<string, unknown>;

export async function projectCommand(tx: Executor, e: LogEntry): Promise<void> {
  const m = JSON.parse(e.payload) as Json;
  switch (e.kind) {
    case 'command':
      await tx.run(
        `INSERT INTO commands (id, device, prefix, name, args, issued_by, issued_at, expires_at, state, rank, updated_at, closes_gap)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)
         ON CONFLICT (id) DO UPDATE SET device = excluded.device, prefix = excluded.prefix, args = excluded.args, issued_by = excluded.issued_by, issued_at = excluded.issued_at, expires_at = excluded.expires_at, closes_gap = excluded.closes_gap`,
        [m.id, e.device, e.prefix, m.name, JSON.stringify(m.args ?? {}), m.issuedBy ?? null, Date.parse(String(m.at)), Date.parse(String(m.expiresAt)), e.receivedAt, m.closesGap ? JSON.stringify(m.closesGap) : null],
      );
      // A reply that came first may have finished a backfill already.
      return backfilled(tx, String(m.id));
    case 'command-sent':
      await tx.run("UPDATE commands SET state = 'sent', rank = 1, updated_at = ? WHERE id = ? AND rank < 1", [e.receivedAt, m.id]);
      return;
    case 'cmd-result': {
      const status = String(m.status);
      const rank = RANK[status] ?? 0;
      const reply = JSON.stringify({ status, ts: m.ts, msgId: m.msgId, ...(m.duplicate === true && { duplicate: true }), ...(m.error !== undefined && { error: m.error }) });
      // Replies to commands this fleet did not issue (a shell's mosquitto_rr) make their row too.
      await tx.run(
        `INSERT INTO commands (id, device, prefix, name, state, rank, updated_at, result, error, replies)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, json_array(json(?)))
         ON CONFLICT (id) DO UPDATE SET
           replies = CASE WHEN json_array_length(commands.replies) < 20 THEN json_insert(commands.replies, '$[#]', json(?)) ELSE commands.replies END,
           state = CASE WHEN excluded.rank > commands.rank THEN excluded.state ELSE commands.state END,
           result = CASE WHEN excluded.rank > commands.rank THEN excluded.result ELSE commands.result END,
           error = CASE WHEN excluded.rank > commands.rank THEN excluded.error ELSE commands.error END,
           updated_at = CASE WHEN excluded.rank > commands.rank THEN excluded.updated_at ELSE commands.updated_at END,
           rank = max(commands.rank, excluded.rank)
         WHERE commands.device = excluded.device`, // a reply from another device for this id is not its answer
        [m.id, e.device, e.prefix, m.name, status, rank, Date.parse(String(m.ts)) || e.receivedAt, m.result === undefined ? null : JSON.stringify(m.result), m.error ?? null, reply, reply],
      );
      return backfilled(tx, String(m.id));
    }
  }
}

/**
 * A replay sent to close a gap that finished done with readings: the gap's seqs count as
 * backfilled. One that found no readings (the journal no longer reaches back) closes nothing.
 */
async function backfilled(tx: Executor, id: string): Promise<void> {
  const c = await tx.get<{ device: string; closes_gap: string | null; state: string; readings: number | null }>("SELECT device, closes_gap, state, json_extract(result, '$.readings') AS readings FROM commands WHERE id = ?", [id]);
  if (!c?.closes_gap || c.state !== 'done' || !(Number(c.readings) > 0)) return;
  const [first, last] = JSON.parse(c.closes_gap) as [number, number];
  await tx.run('INSERT OR IGNORE INTO backfills (device, first, last, command) VALUES (?, ?, ?, ?)', [c.device, first, last, id]);
}
