// Where sources meet the stream: admission checks, then the stream, then the outbox writer.
// Each source gets its own sink so counters say which source a reading came from.
import type { SourceSink } from '../sources/source.js';
import type { Reading } from '../stream/reading.js';
import type { Admission } from '../stream/admission.js';
import type { Anomaly, Stream, StreamEvent, StreamOutput, Summary } from '../stream/stream.js';
import type { GroupCommit } from '../store/group-commit-types.js';
import type { Stats } from '../ops/stats.js';
import { bump } from '../ops/stats.js';
import type { Logger } from '../ops/logger.js';
import type { Rejection } from '../stream/rejection.js';
import { DEAD_LETTER_PAYLOAD_BYTES } from '../store/dead-letters.js';

export interface Ingest {
  sinkFor(source: string): SourceSink;
  /** The clock became trusted: stamp held readings by their monotonic age and let them in. */
  release(wallNow: number, monoNow: number): void;
  held(): number;
  /**
   * At a stop: readings still held for a trusted clock become dead letters (reason
   * clock-untrusted), so nothing acknowledged is dropped; `outpost deadletter replay` takes them
   * back once the clock is right.
   */
  spillHeld(): number;
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
  onEvent?: (e: StreamEvent) => void;
  /** Each summary as it is emitted (discovery). */
  onSummary?: (s: Summary) => void;
}

/**
 * What a dead letter keeps: a copied prefix of the payload (never a reference to a large
 * buffer), a bounded detail and topic.
 */
function bounded(r: Rejection): Rejection {
  let { payload, detail } = r;
  if (payload !== undefined && payload.length > DEAD_LETTER_PAYLOAD_BYTES) {
    payload = Buffer.from(typeof payload === 'string' ? payload.slice(0, DEAD_LETTER_PAYLOAD_BYTES) : payload.subarray(0, DEAD_LETTER_PAYLOAD_BYTES));
    detail = `${detail.slice(0, 1000)} (payload cut to ${DEAD_LETTER_PAYLOAD_BYTES} bytes)`;
  } else if (payload !== undefined && typeof payload !== 'string') payload = Buffer.from(payload);
  else detail = detail.slice(0, 1000);
  return { ...r, payload, detail, topic: r.topic?.slice(0, 1024) };
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? '';
  } catch {
    return '';
  }
}

export function createIngest(o: IngestOptions): Ingest {
  const out: StreamOutput[] = [];
  const latest = new Map<string, Summary>();
  const warnedUnrouted = new Set<string>();
  const held: Array<{ r: Reading; mono: number; sink: SourceSink; source: string }> = [];

  const emit = (outputs: StreamOutput[]) => {
    const now = o.clock();
    for (const x of outputs) {
      o.writer.write(x, now);
      if (x.kind === 'summary') {
        o.stats.summaries++;
        if (latest.size < o.maxLatest || latest.has(x.sensor)) latest.set(x.sensor, x);
        o.onSummary?.(x);
      } else if (x.kind === 'anomaly') {
        o.stats.anomalies++;
        o.onAnomaly?.(x);
      } else {
        o.stats.events++;
        o.onEvent?.(x);
      }
    }
    outputs.length = 0;
  };

  return {
    held: () => held.length,
    spillHeld() {
      const all = held.splice(0);
      for (const { r, sink, source } of all) {
        sink.reject({ reason: 'clock-untrusted', detail: 'held until the clock was trusted, and the agent stopped first: replay it (outpost deadletter replay) once the clock is right', source, receivedAt: r.receivedAt, payload: JSON.stringify({ sensor: r.sensor, value: r.value }) });
      }
      if (all.length > 0) o.log.warn({ readings: all.length }, 'stopping with readings held for a trusted clock: kept as dead letters (reason clock-untrusted)');
      return all.length;
    },
    release(wallNow, monoNow) {
      const batch = held.splice(0);
      for (const { r, mono, sink } of batch) {
        r.ts = r.receivedAt = wallNow - (monoNow - mono);
        sink.reading(r);
      }
      if (batch.length > 0) o.log.info({ readings: batch.length }, 'clock trusted: held readings stamped by their age and let in');
    },
    sinkFor(source) {
      const sink: SourceSink = {
        reading(r) {
          try {
            admit(r);
          } catch (err) {
            // Last resort: a bug costs this reading (dead-lettered, counted), never the process.
            o.log.error({ source, sensor: String(r.sensor).slice(0, 200), err: (err as Error)?.stack ?? String(err) }, 'internal error on a reading: dead-lettered (reason internal-error); please report this');
            sink.reject({ reason: 'internal-error', detail: `the agent failed on this reading: ${(err as Error)?.message ?? String(err)}`, source, receivedAt: r.receivedAt, payload: safeJson({ sensor: r.sensor, ts: r.ts, value: r.value }) });
          }
        },
        ready: () => o.writer.ready(),
        availability(device, online, at) {
          // The device's name goes into a topic (event/availability/<device>): the rules of an id.
          const bad = o.admission.checkId(device);
          if (bad) {
            sink.reject({ ...bad, detail: `device name: ${bad.detail}`, source, receivedAt: at, payload: JSON.stringify({ device: device.slice(0, 200), online }) });
            return;
          }
          // Journaled like a reading, so a replay reports it at the same point.
          const changed = o.stream.availability(device, online, at, out);
          if (changed) o.writer.availability(device, online, at);
          if (out.length > 0) emit(out);
        },
        durable: () => o.writer.durable(),
        reject(rejection) {
          const kept = bounded(rejection);
          bump(o.stats.deadLettersByReason, kept.reason);
          o.writer.reject(kept);
          // Log the 1st, 10th, 100th, ... of each reason: visible, but a flood cannot fill the journal.
          const n = o.stats.deadLettersByReason.get(kept.reason)!;
          const level = Number.isInteger(Math.log10(n)) ? 'warn' : 'debug';
          o.log[level]({ source, topic: kept.topic?.slice(0, 200), reason: kept.reason, detail: kept.detail.slice(0, 500), count: n }, 'input dead-lettered (see `outpost status`, table dead_letters)');
        },
      };
      const admit = (r: Reading) => {
        const trusted = o.trusted();
        if (r.stamped && !trusted) {
          // Our clock is not believable: keep the reading with its monotonic time until it is.
          if (held.length < o.holdReadings) held.push({ r, mono: o.mono(), sink, source });
          else sink.reject({ reason: 'clock-untrusted', detail: `the agent's clock is not trusted yet and clock.holdReadings (${o.holdReadings}) readings are already held`, source, receivedAt: r.receivedAt, payload: JSON.stringify({ sensor: r.sensor, value: r.value }) });
          return;
        }
        // Every source stamps receivedAt with the clock as the message arrives (and a replay or a
        // release, as it lets the reading in): the same instant, without a second clock read.
        const problem = o.admission.check(r, trusted ? r.receivedAt : Infinity);
        if (problem) {
          sink.reject({ ...problem, source, receivedAt: r.receivedAt, payload: JSON.stringify({ sensor: r.sensor, ts: r.ts, value: r.value }) });
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
      };
      return sink;
    },
    emit,
    latest: () => [...latest.values()].sort((a, b) => b.end - a.end),
  };
}
