// Upstream payloads (DESIGN.md "Upstream messages"). Rendered in two steps because the id
// (`<device>:<seq>`) is only known when the outbox assigns the seq: the stream renders the
// body, the outbox wraps it with `{"v":1,"id":...,` when it commits the row.
import type { Anomaly, Summary, StreamEvent, StreamOutput } from '../stream/stream.js';
import { iso } from '../stream/iso-time.js';
import { saveSketch } from '../stream/quantile-sketch.js';

const SUMMARY_ORDER = ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p95', 'p99', 'first', 'last', 'sum'] as const;

/** JSON members after "v" and "id", without braces. */
export function renderBody(device: string, o: StreamOutput): string {
  return o.kind === 'summary' ? summaryBody(device, o) : o.kind === 'anomaly' ? anomalyBody(device, o) : eventBody(device, o);
}

const seconds = (ms: number) => Math.round(Math.max(0, ms)) / 1000;

function eventBody(device: string, e: StreamEvent): string {
  const body =
    e.type === 'stale'
      ? { device, kind: 'stale', ts: iso(e.ts), sensor: e.sensor, state: e.state, silentForS: seconds(e.silentForMs), limitS: seconds(e.limitMs), lastSeen: iso(e.lastSeen) }
      : e.type === 'rule'
        ? {
            device,
            kind: 'rule',
            ts: iso(e.ts),
            rule: e.sensor,
            state: e.state,
            severity: e.severity,
            since: iso(e.since),
            heldS: seconds(e.ts - e.since),
            ...(e.raisedAt !== undefined && { raisedAt: iso(e.raisedAt) }),
            values: e.values,
            ...(e.message !== undefined && { message: e.message }),
          }
        : { device, kind: 'availability', ts: iso(e.ts), subject: e.sensor, state: e.state, ...(e.previousSince !== undefined && { previousSince: iso(e.previousSince) }) };
  return JSON.stringify(body).slice(1, -1);
}

export function wrapBody(device: string, seq: number, body: string): string {
  return `{"v":1,"id":${JSON.stringify(`${device}:${seq}`)},${body}}`;
}

function summaryBody(device: string, s: Summary): string {
  const fields: Record<string, unknown> = {
    device,
    sensor: s.sensor,
    window: { start: iso(s.start), end: iso(s.end) },
    count: s.count,
  };
  // A non-finite aggregate would render as null; admission bounds values so none arises, and
  // should one anyway, the field is left out rather than sent as a wrong number.
  for (const k of SUMMARY_ORDER) if (Number.isFinite(s.values[k])) fields[k] = s.values[k];
  fields.late = s.late;
  if (s.partial) fields.partial = true;
  return JSON.stringify(fields).slice(1, -1);
}

function anomalyBody(device: string, a: Anomaly): string {
  return JSON.stringify({
    device,
    sensor: a.sensor,
    ts: iso(a.ts),
    value: a.value,
    detector: a.verdict.detector,
    severity: a.verdict.severity,
    score: a.verdict.score,
    message: a.verdict.message,
    evidence: a.verdict.evidence,
  }).slice(1, -1);
}

/** A stream output as the outbox stores it: its payload (id included) and, for a summary, its sketch. */
export interface EncodedMessage {
  payload: string;
  sketch: string | null;
  /** The topic's tail under the kind when it is not the output's sensor (event/stale/<sensor>). */
  sensor?: string;
}

/** What the store is given to turn an output into a row, so that it never renders one itself. */
export type Encoder = (seq: number, output: StreamOutput) => EncodedMessage;

/** `replayed`: a backfill from the journal (`outpost replay --publish`), marked so. */
export function upstreamEncoder(device: string, opts: { replayed?: boolean } = {}): Encoder {
  const mark = opts.replayed ? ',"replayed":true' : '';
  return (seq, o) => ({
    payload: wrapBody(device, seq, renderBody(device, o) + mark),
    sketch: o.kind === 'summary' && o.sketch ? JSON.stringify(saveSketch(o.sketch)) : null,
    // Rule events go on event/<rule id> (DESIGN.md "Rules"); the others on event/<type>/<subject>.
    ...(o.kind === 'event' && { sensor: o.type === 'rule' ? o.sensor : `${o.type}/${o.sensor}` }),
  });
}
