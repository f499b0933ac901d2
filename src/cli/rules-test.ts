// `outpost rules test --config FILE [--from T] [--to T] [--json]`: a backtest before deploying a
// rule. Runs the config's rules and derived sensors over the journal's history (agent/backtest.ts)
// and prints when each would have raised and cleared: one line each, or with --json the event
// as it would go upstream. Only reads the database: fine while the agent runs.
import { readingStore } from '../store/cli-store.js';
import { backtestRules } from '../agent/backtest.js';
import { renderBody } from '../wire/render.js';
import { iso } from '../stream/iso-time.js';
import type { RuleEvent } from '../stream/stream.js';
import type { Io } from './io.js';
import { journalCommand, type JournalArgs } from './journal-command.js';

export interface RulesTestArgs extends JournalArgs {
  json?: boolean;
}

const fmt = (v: number) => String(Number(v.toPrecision(6)));

function line(e: RuleEvent): string {
  const held = Math.round((e.ts - (e.state === 'raised' ? e.since : (e.raisedAt ?? e.since))) / 1000);
  const values = Object.entries(e.values).map(([k, v]) => `${k}=${fmt(v)}`).join(' ');
  const how = e.state === 'raised' ? `held since ${iso(e.since)} (${held} s)` : `raised at ${iso(e.raisedAt ?? e.since)} (for ${held} s)`;
  return `${iso(e.ts)}  ${e.state.padEnd(7)}  ${e.sensor}  ${e.severity}  ${how}${values ? `  ${values}` : ''}`;
}

export async function rulesTest(a: RulesTestArgs, io: Io): Promise<number> {
  const opened = journalCommand(a, io, 'rules test', (cfg) => (cfg.rules.length === 0 ? `${a.config} has no rules` : undefined));
  if (typeof opened === 'number') return opened;
  const { cfg, from, to } = opened;
  if (!cfg.storage.journal.enabled) io.err('outpost rules test: storage.journal is disabled in this config; the database may hold no readings');
  const r = await readingStore(cfg.storage.path, (db) => backtestRules(db, cfg, { from, to }));
  for (const e of r.events) io.out(a.json ? `{${renderBody(cfg.device.id, e)}}` : line(e));
  const span = r.first === null ? 'no readings in the journal' : `${r.readings} readings received ${iso(r.first)} to ${iso(r.last!)}`;
  const raised = r.events.filter((e) => e.state === 'raised').length;
  io.err(`rules test: ${span}; ${raised} raised, ${r.events.length - raised} cleared${r.raised.length > 0 ? `; still raised at the end: ${r.raised.join(', ')}` : ''}`);
  return 0;
}
