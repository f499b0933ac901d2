// Scheduled jobs (node-cron, from `schedules` in the config): each job never overlaps itself,
// and its last run, outcome and duration are kept for health.
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from './logger.js';

export interface Job {
  name: string;
  cron: string;
  run: () => Promise<unknown>;
}

export interface JobStatus {
  lastRun: string | null;
  ok: boolean | null;
  error: string | null;
  ms: number | null;
  runs: number;
}

export interface Schedules {
  status(): Record<string, JobStatus>;
  /** Runs a job now, as its schedule would (tests, and `outpost` at start). */
  runNow(name: string): Promise<void>;
  stop(): Promise<void>;
}

export function startSchedules(jobs: readonly Job[], log: Logger, clock: () => number): Schedules {
  // node-cron logs to the console on its own; route it into our JSON logs (it is process-wide).
  cron.setLogger({
    info: (m) => log.debug({ component: 'node-cron' }, m),
    warn: (m) => log.warn({ component: 'node-cron' }, m),
    error: (m, err) => log.error({ component: 'node-cron', err: err?.message }, String(m)),
    debug: (m) => log.debug({ component: 'node-cron' }, String(m)),
  });
  const status: Record<string, JobStatus> = {};
  const runners = new Map<string, () => Promise<void>>();
  const tasks: ScheduledTask[] = [];
  for (const job of jobs) {
    status[job.name] = { lastRun: null, ok: null, error: null, ms: null, runs: 0 };
    let running: Promise<void> | undefined;
    const run = () => {
      // no overlap: a run still going when the next is due absorbs it
      running ??= (async () => {
        const t0 = clock();
        const s = status[job.name]!;
        try {
          await job.run();
          Object.assign(s, { ok: true, error: null });
        } catch (err) {
          Object.assign(s, { ok: false, error: (err as Error).message });
          log.warn({ job: job.name, err: (err as Error).message }, 'scheduled job failed');
        } finally {
          Object.assign(s, { lastRun: new Date(t0).toISOString(), ms: clock() - t0, runs: s.runs + 1 });
          running = undefined;
        }
      })();
      return running;
    };
    runners.set(job.name, run);
    tasks.push(cron.schedule(job.cron, run, { noOverlap: true }));
  }
  return {
    status: () => structuredClone(status),
    runNow: (name) => runners.get(name)?.() ?? Promise.resolve(),
    async stop() {
      for (const t of tasks) await t.stop();
    },
  };
}
