// The agent's once-a-second heartbeat: clock-jump handling, release of readings held for a
// trusted clock, the stream's wall-clock tick (quiet sensors' windows close, idle sensors are
// evicted), checkpoint requests, and the smoothed ingest rate. Its last run feeds the watchdog.
import type { Stream, StreamOutput } from '../stream/stream.js';
import type { GroupCommit } from '../store/group-commit-types.js';
import type { Ingest } from './ingest.js';
import type { Admission } from '../stream/admission.js';
import type { Stats } from '../ops/stats.js';
import type { Logger } from '../ops/logger.js';

export interface TickerDeps {
  clock: () => number;
  mono: () => number;
  /** The clock-trust observation: how far the wall clock jumped (ms) and whether it is trusted. */
  observeClock: () => { jump: number; state: string };
  stream: Stream;
  writer: GroupCommit;
  ingest: Ingest;
  admission: Admission;
  stats: Stats;
  log: Logger;
  checkpointIntervalMs: number;
}

export interface Ticker {
  tick(): void;
  /** Readings a second, smoothed over about ten ticks. */
  ratePerS(): number;
  /** Monotonic time of the last tick (the watchdog's measure of progress). */
  lastTickMono(): number;
}

export function createTicker(d: TickerDeps): Ticker {
  let lastCheckpointAt = d.clock(); // recovery has just asked for one
  let lastTick = d.mono();
  let rate = { at: d.clock(), readings: d.stats.readings, perS: 0 };
  return {
    tick() {
      const now = d.clock();
      const c = d.observeClock();
      if (c.jump !== 0) {
        // Quiet-sensor closing measures idle time on the wall clock: move arrivals with the jump.
        d.log.warn({ jumpMs: c.jump, state: c.state }, 'wall clock jumped; window timing adjusted');
        d.stream.shiftArrivals(c.jump);
        d.writer.shift(c.jump, now);
      }
      if (c.state === 'trusted' && d.ingest.held() > 0) d.ingest.release(now, d.mono());
      const out: StreamOutput[] = [];
      if (d.stream.tick(now, out)) d.writer.tick(now); // idle sensors are evicted here too (limits.sensorIdleTtl)
      d.admission.forgetIdle(now);
      if (out.length > 0) d.ingest.emit(out);
      if (now - lastCheckpointAt >= d.checkpointIntervalMs) {
        lastCheckpointAt = now;
        d.writer.requestCheckpoint();
      }
      lastTick = d.mono();
      const dt = (now - rate.at) / 1000;
      if (dt > 0) {
        const instant = (d.stats.readings - rate.readings) / dt;
        rate = { at: now, readings: d.stats.readings, perS: rate.perS === 0 ? instant : rate.perS * 0.9 + instant * 0.1 };
      }
    },
    ratePerS: () => rate.perS,
    lastTickMono: () => lastTick,
  };
}
