// The stream stage as a component: recovered from the checkpoint and journal, the door into it
// (admission and ingest), and the once-a-second heartbeat. Its stop sends open windows as
// partial summaries (unless reloading) and closes the writer, so the last commit is made while
// the uplink still runs and can deliver it.
import type { StreamOutput } from '../stream/stream.js';
import { createAdmission } from '../stream/admission.js';
import { BUILD_FLOOR } from '../ops/build-info.js';
import { recoverStream } from './recovery.js';
import { createIngest } from './ingest.js';
import { createTicker } from './ticker.js';
import type { Component } from './lifecycle.js';
import type { AgentContext, AgentParts } from './agent-parts.js';

export const TICK_MS = 1000;

export function streamComponent(ctx: AgentContext, parts: AgentParts): Component {
  const { config, log, clock, system, trust, stats } = ctx;
  let interval: NodeJS.Timeout | undefined;
  return {
    name: 'stream',
    async start() {
      const writer = parts.writer!;
      const recovered = await recoverStream({
        db: parts.db!,
        outbox: parts.outbox!,
        writer,
        pipelines: config.pipelines,
        rules: config.rules,
        derived: config.derived,
        journal: config.storage.journal.enabled,
        idleTtlMs: config.limits.sensorIdleTtl,
        clock,
        log,
      });
      const stream = recovered.stream;
      parts.stream = stream;
      writer.requestCheckpoint(); // the next restart starts from here, not from the old checkpoint
      await writer.flush();
      const admission = createAdmission({ ...config.limits, floor: BUILD_FLOOR });
      parts.admission = admission;
      const ingest = createIngest({
        admission,
        stream,
        writer,
        stats,
        clock,
        log,
        maxLatest: config.limits.maxSensors,
        trusted: () => trust.status().state === 'trusted',
        mono: () => system.mono(),
        holdReadings: config.clock.holdReadings,
        onAnomaly: (a) => {
          for (const o of parts.outputs) o.onAnomaly?.(a);
        },
        onEvent: (e) => {
          for (const o of parts.outputs) o.onEvent?.(e);
        },
        onSummary: (s) => {
          for (const o of parts.outputs) o.onSummary?.(s);
        },
      });
      parts.ingest = ingest;
      // Rules raised before a restart are still raised (no new event): the outputs hear of them.
      for (const r of stream.rulesRaised()) for (const o of parts.outputs) o.onEvent?.({ kind: 'event', type: 'rule', sensor: r.rule, ts: r.raisedAt, state: 'raised', severity: r.severity, since: r.since, values: {} });
      if (trust.status().state !== 'trusted') log.warn({ clock: trust.status(), wall: new Date(clock()).toISOString() }, 'wall clock not trusted yet: readings without a timestamp are held until it is');
      const beat = createTicker({ clock, mono: () => system.mono(), observeClock: ctx.observeClock, stream, writer, ingest, admission, stats, log, checkpointIntervalMs: config.storage.checkpointInterval });
      parts.heartbeat = beat;
      interval = setInterval(() => beat.tick(), TICK_MS);
      parts.ticking = true;
    },
    async stop() {
      clearInterval(interval);
      parts.ticking = false;
      const { stream, ingest } = parts;
      ingest?.spillHeld();
      if (stream && ingest && parts.flushOpenWindows) {
        // Open windows go out as partial summaries; they stay in the checkpoint that close()
        // saves and continue after a restart, ending in a complete summary.
        const out: StreamOutput[] = [];
        stream.flush(out);
        ingest.emit(out);
      }
      await parts.writer?.close();
    },
  };
}
