// The record of each remote command a device took (table `commands`, migration 5): written
// before the command runs, so a redelivered one is answered from here and never run twice;
// its reply is written with the reply's outbox row (commit-batches.ts).
import type { Database } from './sqlite.js';

export interface CommandRecord {
  id: string;
  name: string;
  state: 'running' | 'accepted' | 'final';
  /** The latest reply's body (JSON), null while none was written. */
  reply: string | null;
}

export async function findCommand(db: Database, id: string): Promise<CommandRecord | undefined> {
  return db.get<CommandRecord>('SELECT id, name, state, reply FROM commands WHERE id = ?', [id]);
}

/** Records a command about to run; false when its id is known already (then it must not run). */
export async function recordCommand(db: Database, c: { id: string; name: string; receivedAt: number; keepUntil: number }): Promise<boolean> {
  const r = await db.run("INSERT OR IGNORE INTO commands (id, name, received_at, keep_until, state) VALUES (?, ?, ?, ?, 'running')", [c.id, c.name, c.receivedAt, c.keepUntil]);
  return r.changes === 1;
}

/** Commands recorded but never finished (the agent stopped or died while they ran). */
export async function unfinishedCommands(db: Database): Promise<Array<CommandRecord & { keep_until: number }>> {
  return db.all("SELECT id, name, state, reply, keep_until FROM commands WHERE state <> 'final'");
}

/** Forgets finished commands kept long enough (past their expiry): returns how many. */
export async function pruneCommands(db: Database, now: number): Promise<number> {
  return (await db.run("DELETE FROM commands WHERE keep_until < ? AND state = 'final'", [now])).changes;
}
