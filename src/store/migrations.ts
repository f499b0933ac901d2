// Schema versions, applied in order and recorded in PRAGMA user_version. Append only: a
// released migration is never edited, so every device upgrades along the same path.
import type { Database } from './sqlite.js';

const MIGRATIONS: readonly string[] = [
  // 1: outbox, per-device seq counter, dead letters
  `CREATE TABLE outbox (
     seq INTEGER PRIMARY KEY,            -- the message id's seq; also drain order
     kind TEXT NOT NULL,                 -- 'summary' | 'anomaly' ('event' from version 4)
     sensor TEXT NOT NULL,
     payload TEXT NOT NULL,              -- the JSON sent upstream, id included
     created_at INTEGER NOT NULL         -- epoch ms
   );
   CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
   INSERT INTO meta (key, value) VALUES ('next_seq', 1);
   CREATE TABLE dead_letters (
     id INTEGER PRIMARY KEY,
     received_at INTEGER NOT NULL,
     source TEXT NOT NULL,
     topic TEXT,
     reason TEXT NOT NULL,
     detail TEXT NOT NULL,
     payload BLOB
   );
   CREATE INDEX dead_letters_received ON dead_letters (received_at);`,
  // 2: the journal of raw readings (the source of truth) and the stream checkpoint
  `CREATE TABLE journal (
     id INTEGER PRIMARY KEY,             -- one group commit; processing and replay order
     count INTEGER NOT NULL,             -- entries in the batch
     first_received INTEGER NOT NULL,    -- epoch ms of its first and last entry (retention)
     last_received INTEGER NOT NULL,
     data BLOB NOT NULL                  -- the entries, packed (store/journal-codec.ts)
   );
   CREATE TABLE checkpoint (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     journal_id INTEGER NOT NULL,        -- the state covers journal batches up to this id
     next_seq INTEGER NOT NULL,          -- the outbox seq counter at that point
     specs TEXT NOT NULL,                -- the pipelines the state belongs to (JSON)
     state TEXT NOT NULL,                -- the stream state (JSON)
     created_at INTEGER NOT NULL
   );`,
  // 3: the quantile sketch a summary was made from (so the byte budget can merge it exactly),
  // and an index over anomalies only (they drain before summaries; summaries cost no index)
  `ALTER TABLE outbox ADD COLUMN sketch TEXT;
   CREATE INDEX outbox_anomalies ON outbox (seq) WHERE kind = 'anomaly';`,
  // 4: events (availability, staleness: kind 'event') drain before summaries like anomalies
  `CREATE INDEX outbox_events ON outbox (seq) WHERE kind = 'event';`,
  // 5: remote commands. Replies (kind 'reply') drain with the priority classes and may carry
  // MQTT 5 publish properties (correlation data); `outside_seqs` lists the seqs the stream did
  // not produce (replies, backfills), which recovery steps over so the stream's regenerated
  // outputs keep their ids; `commands` records each command id before it runs, and its reply.
  `ALTER TABLE outbox ADD COLUMN props TEXT;
   CREATE INDEX outbox_replies ON outbox (seq) WHERE kind = 'reply';
   CREATE TABLE outside_seqs (seq INTEGER PRIMARY KEY);
   CREATE TABLE commands (
     id TEXT PRIMARY KEY,                -- the command's id, as the sender chose it
     name TEXT NOT NULL,
     received_at INTEGER NOT NULL,       -- epoch ms
     keep_until INTEGER NOT NULL,        -- kept (a redelivery is answered, never re-run) until then
     state TEXT NOT NULL,                -- running | accepted | final
     reply TEXT                          -- the latest reply's body (JSON), for a redelivery
   );
   CREATE INDEX commands_keep ON commands (keep_until);`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export async function migrate(db: Database): Promise<void> {
  const row = await db.get<{ user_version: number }>('PRAGMA user_version');
  const current = row?.user_version ?? 0;
  if (current > SCHEMA_VERSION) {
    throw new Error(`${db.path} has schema version ${current}, newer than this Outpost (${SCHEMA_VERSION}): upgrade Outpost, or move the file aside`);
  }
  for (let v = current; v < SCHEMA_VERSION; v++) {
    await db.transaction(async (tx) => {
      await tx.exec(MIGRATIONS[v]!);
      await tx.exec(`PRAGMA user_version = ${v + 1}`);
    });
  }
}
