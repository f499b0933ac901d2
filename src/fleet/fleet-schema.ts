// The fleet store's tables. The log is the source of truth (append-only, one row per accepted
// upstream message, deduplicated by key); every other table is a projection of it, dropped and
// rebuilt by `outpost fleet rebuild`, and rebuilt at start when PROJECTION_VERSION changed.
import { COMMANDS_SCHEMA } from './command-projection.js';

export const PROJECTION_VERSION = '5';

export const LOG_SCHEMA = `
CREATE TABLE IF NOT EXISTS log (
  key TEXT PRIMARY KEY,          -- the message id, or health:/status:/daily:/ack: keys
  kind TEXT NOT NULL,            -- summary | anomaly | event | health | status | daily | ack | command | command-sent | cmd-result
  device TEXT,
  seq INTEGER,                   -- of "<device>:<seq>" ids
  prefix TEXT NOT NULL,
  topic TEXT NOT NULL,
  payload TEXT NOT NULL,
  received_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS log_device_seq ON log (device, seq) WHERE seq IS NOT NULL;
CREATE INDEX IF NOT EXISTS log_received ON log (received_at);
CREATE TABLE IF NOT EXISTS dead_letters (id INTEGER PRIMARY KEY, received_at INTEGER NOT NULL, topic TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL, payload TEXT);
CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, who TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

export const PROJECTION_TABLES = ['devices', 'prefixes', 'prefix_status', 'summaries', 'sensor_state', 'alerts', 'clears', 'commands', 'backfills', 'command_replies_seen'] as const;

export const PROJECTION_SCHEMA = `
CREATE TABLE IF NOT EXISTS devices (
  device TEXT PRIMARY KEY, prefix TEXT,
  status TEXT, status_at INTEGER,            -- the retained status and the last will, by arrival
  last_seen INTEGER,                         -- the latest time any of its messages carries (ms)
  health TEXT, health_ts TEXT                -- the latest health report, by its ts
);
CREATE TABLE IF NOT EXISTS prefixes (prefix TEXT PRIMARY KEY, device TEXT NOT NULL);
-- The retained status and last will, by prefix (the topic is all a status says): joined to the
-- device that publishes under the prefix, so a status arriving first makes no device of its own.
CREATE TABLE IF NOT EXISTS prefix_status (prefix TEXT PRIMARY KEY, status TEXT NOT NULL, status_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS summaries (
  device TEXT NOT NULL, sensor TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
  seq INTEGER NOT NULL, partial INTEGER NOT NULL, payload TEXT NOT NULL,
  versions INTEGER NOT NULL DEFAULT 1,       -- versions of the window projected (retention re-projects only those above 1)
  PRIMARY KEY (device, sensor, start, end)
);
CREATE INDEX IF NOT EXISTS summaries_end ON summaries (device, sensor, end);
CREATE TABLE IF NOT EXISTS sensor_state (device TEXT NOT NULL, sensor TEXT NOT NULL, stale INTEGER NOT NULL, ts TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (device, sensor));
CREATE TABLE IF NOT EXISTS alerts (
  id TEXT PRIMARY KEY, device TEXT NOT NULL, kind TEXT NOT NULL, subject TEXT NOT NULL, ts TEXT NOT NULL,
  state TEXT NOT NULL,                       -- open | acknowledged | cleared
  payload TEXT NOT NULL, acked_by TEXT, acked_at INTEGER
);
CREATE INDEX IF NOT EXISTS alerts_state ON alerts (state, ts);
CREATE TABLE IF NOT EXISTS clears (device TEXT NOT NULL, kind TEXT NOT NULL, subject TEXT NOT NULL, ts TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (device, kind, subject, ts));
${COMMANDS_SCHEMA}`;
