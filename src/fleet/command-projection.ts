// Commands in the read model, projected from the log like everything else: `command` (issued
// by this fleet: who, what, until when; a gap it backfills), `command-sent` (the fleet broker
// took it) and `cmd-result` (a device's reply). A command is its device's: rows are keyed by
// (device, id), so a reply another device sends for an id makes a row of its own and never
// answers, or closes a gap, for the device the command was for. A command's state only moves
// forward (pending < sent < accepted < a final status) and the first final reply stands, so
// any order of arrival gives the same row. `timed-out` is not stored: it is read from expires_at.
import type { Executor } from '../store/sqlite.js';
import type { LogEntry } from './projection.js';

export const COMMANDS_SCHEMA = `
CREATE TABLE IF NOT EXISTS commands (
  device TEXT NOT NULL, id TEXT NOT NULL, prefix TEXT, name TEXT NOT NULL, args TEXT,
  issued_by TEXT, issued_at INTEGER, expires_at INTEGER,
  state TEXT NOT NULL, rank INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  result TEXT, error TEXT, replies TEXT NOT NULL DEFAULT '[]',
  closes_gap TEXT,                            -- [first, last] seqs a replay was sent to backfill
  PRIMARY KEY (device, id)
);
CREATE INDEX IF NOT EXISTS commands_issued ON commands (issued_at);
CREATE INDEX IF NOT EXISTS commands_id ON commands (id);
CREATE TABLE IF NOT EXISTS backfills (device TEXT NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL, command TEXT NOT NULL, PRIMARY KEY (device, first, last));
-- The log keys of the replies in commands.replies: a reply is listed once however often its
-- entry is projected (two instances rebuilding at once, a rebuild while another accepts).
CREATE TABLE IF NOT EXISTS command_replies_seen (key TEXT PRIMARY KEY);
`;

const RANK: Record<string, number> = { pending: 0, sent: 1, accepted: 2, done: 3, failed: 3, rejected: 3, expired: 3 };
/** Replies kept per command in the read model (the log keeps them all). */
const MAX_REPLIES = 20;

type Json = Record<string, unknown>;

/** The columns a state change sets, only when it moves the command forward. */
const FORWARD = `
  state = CASE WHEN excluded.rank > commands.rank THEN excluded.state ELSE commands.state END,
  result = CASE WHEN excluded.rank > commands.rank THEN excluded.result ELSE commands.result END,
  error = CASE WHEN excluded.rank > commands.rank THEN excluded.error ELSE commands.error END,
  updated_at = CASE WHEN excluded.rank > commands.rank THEN excluded.updated_at ELSE commands.updated_at END,
  rank = max(commands.rank, excluded.rank)`;

export async function projectCommand(tx: Executor, e: LogEntry): Promise<void> {
  const m = JSON.parse(e.payload) as Json;
  const device = e.device!;
  switch (e.kind) {
    case 'command':
      await tx.run(
        `INSERT INTO commands (device, id, prefix, name, args, issued_by, issued_at, expires_at, state, rank, updated_at, closes_gap)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)
         ON CONFLICT (device, id) DO UPDATE SET prefix = excluded.prefix, name = excluded.name, args = excluded.args, issued_by = excluded.issued_by, issued_at = excluded.issued_at, expires_at = excluded.expires_at, closes_gap = excluded.closes_gap`,
        [device, m.id, e.prefix, m.name, JSON.stringify(m.args ?? {}), m.issuedBy ?? null, Date.parse(String(m.at)), Date.parse(String(m.expiresAt)), e.receivedAt, m.closesGap ? JSON.stringify(m.closesGap) : null],
      );
      // A reply that came first may have finished a backfill already.
      return backfilled(tx, device, String(m.id));
    case 'command-sent':
      await tx.run(
        `INSERT INTO commands (device, id, prefix, name, state, rank, updated_at) VALUES (?, ?, ?, ?, 'sent', 1, ?)
         ON CONFLICT (device, id) DO UPDATE SET ${FORWARD}`,
        [device, m.id, e.prefix, m.name, e.receivedAt],
      );
      return;
    case 'cmd-result': {
      // Every other projection is an upsert that gives the same row twice; a list of replies
      // would grow, so a reply projected before is skipped (its row is as it left it).
      if ((await tx.run('INSERT INTO command_replies_seen (key) VALUES (?) ON CONFLICT (key) DO NOTHING', [e.key])).changes === 0) return;
      const status = String(m.status);
      const reply = JSON.stringify({ status, ts: m.ts, msgId: m.msgId, ...(m.duplicate === true && { duplicate: true }), ...(m.error !== undefined && { error: m.error }) });
      // Replies to commands this fleet did not issue (a shell's mosquitto_rr) make their row too.
      await tx.run(
        `INSERT INTO commands (device, id, prefix, name, state, rank, updated_at, result, error, replies)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, json_array(json(?)))
         ON CONFLICT (device, id) DO UPDATE SET
           replies = CASE WHEN json_array_length(commands.replies) < ${MAX_REPLIES} THEN json_insert(commands.replies, '$[#]', json(?)) ELSE commands.replies END,
           ${FORWARD}`,
        [device, m.id, e.prefix, m.name, status, RANK[status] ?? 0, Date.parse(String(m.ts)) || e.receivedAt, m.result === undefined ? null : JSON.stringify(m.result), m.error ?? null, reply, reply],
      );
      return backfilled(tx, device, String(m.id));
    }
  }
}

/**
 * A replay sent to close a gap that finished done with readings: the gap's seqs count as
 * backfilled. One that found no readings (the journal no longer reaches back) closes nothing.
 */
async function backfilled(tx: Executor, device: string, id: string): Promise<void> {
  const c = await tx.get<{ closes_gap: string | null; state: string; readings: number | null }>("SELECT closes_gap, state, json_extract(result, '$.readings') AS readings FROM commands WHERE device = ? AND id = ?", [device, id]);
  if (!c?.closes_gap || c.state !== 'done' || !(Number(c.readings) > 0)) return;
  const [first, last] = JSON.parse(c.closes_gap) as [number, number];
  await tx.run('INSERT OR IGNORE INTO backfills (device, first, last, command) VALUES (?, ?, ?, ?)', [device, first, last, id]);
}
