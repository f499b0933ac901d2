// Where sources meet the stream: admission checks, then the stream, then the outbox writer.
// Each source gets its own sink so counters say which source a reading came from.
import type { SourceSink } from '../sources/source.js';
import type { Reading } from '../stream/reading.js';
import type { Admission } from '../stream/admission.js';
import type { Anomaly, Stream, StreamOutput, Summary } from '../stream/stream.js';
import type { GroupCommit } from '../store/group-commit.js';
import type { Stats } from '../ops/stats.js';
import { bump } from '../ops/stats.js';
import type { Logger } from '../ops/logger.js';

export interface Ingest {
  sinkFor(source: string): SourceSink;
  /** The clock became trusted: stamp held readings by their monotonic age and let them in. */
  release(wallNow: number, monoNow: number): void;
  held(): number;
  /** Routes stream outputs produced outside a reading (tick, flush) to the writer. */
  emit(outputs: StreamOutput[]): void;
  /** Latest summary per sensor, for `outpost status`. */
  latest(): Summary[];
}

export interface IngestOptions {
  admission: Admission;
  stream: Stream;
  writer: GroupCommit;
  stats: Stats;
  clock: () => number;
  log: Logger;
  maxLatest: number;
  /** Whether receive-time stamps can be believed now (clock-trust.ts), and monotonic time. */
  trusted: () => boolean;
  mono: () => number;
  holdReadings: number;
  /** Each anomaly as it is emitted (alarm outputs). */
  onAnomaly?: (a: Anomaly) => void;
}

export function createIngest(o: IngestOptions): Ingest {
  const out: StreamOutput[] = [];
  const latest = new Map<string, Summary>();
  const warnedUnrouted = new Set<string>();
  const held: Array<{ r: Reading; mono: number; sink: SourceSink }> = [];

  const emit = (outputs: StreamOutput[]) => {
    const now = o.clock();
    for (const x of outputs) {
      o.writer.write(x, now);
      if (x.kind === 'summary') {
        o.stats.summaries++;
        if (latest.size < o.maxLatest || latest.has(x.sensor)) latest.set(x.sensor, x);
      } else {
        o.stats.anomalies++;
        o.onAnomaly?.(x);
      }
    }
    outputs.length = 0;
  };

  return {
    held: () => held.length,
    release(wallNow, monoNow) {
      const batch = held.splice(0);
      for (const { r, mono, sink } of batch) {
        r.ts = r.receivedAt = wallNow - (monoNow - mono);
        sink.reading(r);
      }
      if (batch.length > 0) o.log.info({ readings: batch.length }, 'clock trusted: held readings stamped by their age and let in');
    },
    sinkFor(source) {
      return {
        reading(r) {
          const trusted = o.trusted();
          if (r.stamped && !trusted) {
            // Our clock is not believable: keep the reading with its monotonic time until it is.
            if (held.length < o.holdReadings) held.push({ r, mono: o.mono(), sink: this });
            else this.reject({ reason: 'clock-untrusted', detail: `the agent's clock is not trusted yet and clock.holdReadings (${o.holdReadings}) readings are already held`, source, receivedAt: r.receivedAt, payload: JSON.stringify({ sensor: r.sensor, value: r.value }) });
            return;
          }
          const problem = o.admission.check(r, trusted ? o.clock() : Infinity);
          if (problem) {
            this.reject({ ...problem, source, receivedAt: r.receivedAt, payload: JSON.stringify({ sensor: r.sensor, ts: r.ts, value: r.value }) });
            return;
          }
          o.stats.readings++;
          bump(o.stats.readingsBySource, source);
          const outcome = o.stream.ingest(r, out);
          o.writer.reading(r.sensor, r.ts, r.value, r.receivedAt, outcome === 'late');
          if (outcome === 'late') o.stats.late++;
          else if (outcome === 'unrouted') {
            o.stats.unrouted++;
            if (!warnedUnrouted.has(r.sensor) && warnedUnrouted.size < 100) {
              warnedUnrouted.add(r.sensor);
              o.log.warn({ sensor: r.sensor, source }, 'sensor matches no pipeline: its readings are counted (outpost_unrouted_readings_total) but not summarized; add a pipeline whose match covers it');
            }
          }
          if (out.length > 0) emit(out);
        },
        ready: () => o.writer.ready(),
        reject(rejection) {
          bump(o.stats.deadLettersByReason, rejection.reason);
          o.writer.reject(rejection);
          // Log the 1st, 10th, 100th, ... of each reason: visible, but a flood cannot fill the journal.
          const n = o.stats.deadLettersByReason.get(rejection.reason)!;
          const level = Number.isInteger(Math.log10(n)) ? 'warn' : 'debug';
          o.log[level]({ source, topic: rejection.topic, reason: rejection.reason, detail: rejection.detail, count: n }, 'input dead-lettered (see `outpost status`, table dead_letters)');
        },
      };
    },
    emit,
    latest: () => [...latest.values()].sort((a, b) => b.end - a.end),
  };
}
