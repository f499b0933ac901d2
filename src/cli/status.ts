// `outpost status --config FILE`: asks the running agent (/status); when it is not running,
// reads the database directly for what it can tell (backlog, dead letters, next seq).
import { existsSync } from 'node:fs';
import { loadConfigFile } from '../config/load.js';
import { backlogSummary, deadLettersByReason, readingStore } from '../store/cli-store.js';
import { reportProblems } from './check-config.js';
import type { Io } from './io.js';
import { agentUrl } from './agent-url.js';

interface StatusDoc {
  device: string;
  uptimeS?: number;
  ingest?: { readings: number; ratePerS: number; sensors: number; openWindows: number; late: number };
  backlog: { rows: number; bytes: number; oldestAgeS: number | null };
  uplink?: { state: string; since: string; lastError: string | null; delivered: number };
  deadLetters: { total: number; byReason: Record<string, number> };
  merges?: number;
  evictions?: number;
  store?: {
    writable: boolean;
    problem: string | null;
    error: string | null;
    heldMessages: number;
    budget: { maxBytes: number; fileBytes: number };
    salvage: { asideAs: string } | null;
    writes?: { bytesPerHour: number | null; projectedGBPerDay: number | null };
  };
  schedules?: Record<string, { lastRun: string | null; ok: boolean | null; error: string | null }>;
  alarms?: number[];
  presence?: { staleSensors: number; stale: string[]; offlineDevices: number };
  learning?: { detectors: number; learning: number; least: Array<{ sensor: string; detector: string; progress: number }> };
  rules?: { rules: number; raised: Array<{ rule: string; severity: string; since: string; raisedAt: string }> };
  sources?: Record<string, { devices?: Record<string, string> }>;
  latest?: Array<{ sensor: string; start: number; end: number; count: number; values: Record<string, number> }>;
}

export async function status(file: string, io: Io, opts: { json?: boolean } = {}): Promise<number> {
  const loaded = loadConfigFile(file);
  if (!loaded.ok) return reportProblems(file, loaded, io);
  const cfg = loaded.config;
  let doc: StatusDoc | undefined;
  let source = 'running agent';
  if (cfg.http.enabled) {
    try {
      const res = await fetch(agentUrl(cfg.http, '/status'), { signal: AbortSignal.timeout(2000) });
      if (res.ok) doc = (await res.json()) as StatusDoc;
    } catch {
      // not running, or http disabled: fall back to the database
    }
  }
  if (!doc) {
    if (!existsSync(cfg.storage.path)) {
      io.err(`outpost status: the agent is not answering on http://${cfg.http.host}:${cfg.http.port} and ${cfg.storage.path} does not exist yet`);
      return 1;
    }
    source = `database ${cfg.storage.path} (agent not answering)`;
    doc = await readingStore(cfg.storage.path, async (db) => {
      const b = await backlogSummary(db);
      const byReason = await deadLettersByReason(db);
      return {
        device: cfg.device.id,
        backlog: { rows: b.rows, bytes: b.bytes, oldestAgeS: b.oldest ? Math.round((Date.now() - b.oldest) / 1000) : null },
        deadLetters: { total: Object.values(byReason).reduce((a, n) => a + n, 0), byReason },
      };
    });
  }
  if (opts.json) {
    io.out(JSON.stringify(doc, null, 2));
    return 0;
  }
  io.out(`Outpost ${doc.device}  (from ${source})`);
  if (doc.uptimeS !== undefined) io.out(`  uptime      ${doc.uptimeS} s`);
  if (doc.uplink) io.out(`  uplink      ${doc.uplink.state} since ${doc.uplink.since}${doc.uplink.lastError ? ` (last error: ${doc.uplink.lastError})` : ''}, ${doc.uplink.delivered} delivered`);
  io.out(`  backlog     ${doc.backlog.rows} messages, ${doc.backlog.bytes} bytes${doc.backlog.oldestAgeS !== null ? `, oldest ${doc.backlog.oldestAgeS} s` : ''}`);
  if (doc.ingest) io.out(`  ingest      ${doc.ingest.readings} readings (${doc.ingest.ratePerS}/s), ${doc.ingest.sensors} sensors, ${doc.ingest.openWindows} open windows, ${doc.ingest.late} late`);
  const reasons = Object.entries(doc.deadLetters.byReason).map(([r, n]) => `${r} ${n}`).join(', ');
  io.out(`  dead letters ${doc.deadLetters.total}${reasons ? ` (${reasons})` : ''}`);
  if (doc.store) {
    const st = doc.store;
    const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
    io.out(`  store       ${st.writable ? 'writable' : `NOT WRITABLE (${st.problem}: ${st.error}; ${st.heldMessages} messages held in memory)`}, ${mb(st.budget.fileBytes)} of ${mb(st.budget.maxBytes)}, ${doc.merges ?? 0} merges, ${doc.evictions ?? 0} evictions`);
    const w = st.writes;
    if (w) io.out(`  disk writes ${w.bytesPerHour === null ? 'measuring (a minute of samples first)' : `${mb(w.bytesPerHour)} an hour, ${w.projectedGBPerDay} GB a day at this rate (this process, /proc/self/io)`}`);
    if (st.salvage) io.out(`  salvage     a damaged database was set aside as ${st.salvage.asideAs}`);
  }
  if (doc.schedules) {
    const jobs = Object.entries(doc.schedules).map(([name, j]) => `${name} ${j.lastRun === null ? 'not run yet' : j.ok ? 'ok' : `FAILED (${j.error})`}`);
    io.out(`  schedules   ${jobs.join(', ')}`);
  }
  if (doc.presence && (doc.presence.staleSensors > 0 || doc.presence.offlineDevices > 0)) {
    const offline = Object.values(doc.sources ?? {}).flatMap((s) => Object.entries(s.devices ?? {}).filter(([, st]) => st === 'offline').map(([d]) => d));
    if (doc.presence.staleSensors > 0) io.out(`  stale       ${doc.presence.staleSensors} sensor(s) silent past their cadence: ${doc.presence.stale.join(', ')}${doc.presence.staleSensors > doc.presence.stale.length ? ', ...' : ''}`);
    if (doc.presence.offlineDevices > 0) io.out(`  offline     ${doc.presence.offlineDevices} device(s) by their firmware: ${offline.slice(0, 20).join(', ')}`);
  }
  if (doc.learning && doc.learning.learning > 0) {
    const l = doc.learning;
    const least = l.least.map((x) => `${x.sensor} ${x.detector} ${Math.round(x.progress * 100)}%`).join(', ');
    io.out(`  learning    ${l.learning} of ${l.detectors} detectors still warming up (no verdicts yet); least advanced: ${least}`);
  } else if (doc.learning) io.out(`  learning    all ${doc.learning.detectors} detectors past their warm-up`);
  if (doc.rules) {
    const raised = doc.rules.raised.map((r) => `${r.rule} (${r.severity}, since ${r.since})`).join(', ');
    io.out(`  rules       ${doc.rules.rules} rule(s); ${raised ? `raised: ${raised}` : 'none raised'}`);
  }
  if (doc.alarms && doc.alarms.length > 0) io.out(`  alarms      on: GPIO ${doc.alarms.join(', ')}`);
  if (doc.latest && doc.latest.length > 0) {
    io.out('  latest summaries:');
    for (const s of doc.latest.slice(0, 20)) {
      const mean = s.values.mean !== undefined ? ` mean ${s.values.mean.toFixed(2)}` : '';
      io.out(`    ${s.sensor.padEnd(28)} ${new Date(s.start).toISOString()}  n=${s.count}${mean}`);
    }
  }
  return 0;
}
