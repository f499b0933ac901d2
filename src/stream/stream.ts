// The stream stage: routes each reading to the first pipeline whose globs match its sensor,
// runs that pipeline's detectors on it, and folds it into the sensor's tumbling window.
// Pure and synchronous: time comes in as arguments, results go out through `out` arrays.
// Each routed sensor's arrivals also feed its staleness (staleness.ts); devices' availability
// comes in through availability() (availability.ts). Both are events, saved and journaled.
import { wantsQuantiles } from './aggregate-names.js';
import { compileGlob, compileGlobs, type GlobMatcher } from './glob.js';
import type { Windows, WindowResult } from './windows.js';
import { createWindows } from './create-windows.js';
import { aggregateValues } from './moments.js';
import type { Detector } from './detectors/detector.js';
import { createDetector, isGroupSpec, type SensorDetectorSpec } from './detectors/create-detector.js';
import { createDeviceGroup, groupKey, type DeviceGroup, type SavedGroup } from './detectors/device-group.js';
import { createStaleness, DEFAULT_STALE, type StaleEvent, type StaleSettings } from './staleness.js';
import { createAvailability, type AvailabilityEvent } from './availability.js';
import { createRuleEngine, type RuleEngine, type Watch } from './rules/rule-engine.js';
import type { Reading } from './reading.js';
import { learningReport } from './learning-report.js';
import { pipelineFingerprint, stateMatcher } from './pipeline-fingerprint.js';

export { pipelineFingerprint } from './pipeline-fingerprint.js';
import type { PipelineSpec, SavedStream, Stream, StreamOptions, StreamOutput } from './stream-types.js';

export type * from './stream-types.js';

interface PipelineState {
  spec: PipelineSpec;
  /** Some detector of this pipeline needs wall-clock ticks (gap). */
  ticking: boolean;
  fingerprint: string;
  matches: GlobMatcher;
  /** Undefined: staleness off for this pipeline's sensors. */
  stale: StaleSettings | undefined;
  windows: Windows;
  /** The detectors that watch one sensor each, in config order (their saved states' order). */
  sensorSpecs: SensorDetectorSpec[];
  detectors: Map<string, Detector[]>;
  /** Detectors of a group of sensors (multivariate). */
  groups: Array<{ matches: (sensor: string) => boolean; group: DeviceGroup }>;
}

/**
 * A stream for `specs`; with `saved`, each pipeline takes over the saved state of the first
 * not-yet-taken saved pipeline with the same fingerprint (a changed pipeline starts empty).
 */
/** Evicted sensors remembered (about 60 bytes each); past this the oldest is forgotten. */
const MAX_TOMBSTONES = 10_000;

export function createStream(specs: readonly PipelineSpec[], saved?: SavedStream, options: StreamOptions = {}): Stream {
  const idleTtlMs = options.idleTtlMs ?? saved?.idleTtlMs ?? 0;
  // Sensors with state, by last arrival. A sensor restored from a checkpoint without this map
  // enters it at its next reading (until then it is never evicted).
  const seen = new Map<string, number>(saved?.seen ?? []);
  const flushed = new Map<string, string[]>(saved?.flushed ?? []);
  // An evicted sensor that comes back with old readings (a buffered backlog) must not open a
  // window that was already reported: its reported-up-to time is kept, bounded in number.
  const tombstones = new Map<string, number>(saved?.tombstones ?? []);
  const flushKey = (fingerprint: string, o: StreamOutput) => (o.kind === 'summary' ? `${fingerprint}|${o.start}|${o.end}|${o.count}` : '');
  const unclaimed = [...(saved?.pipelines ?? [])];
  const pipelines: PipelineState[] = specs.map((spec) => {
    const fingerprint = pipelineFingerprint(spec);
    const claims = stateMatcher(spec);
    const i = unclaimed.findIndex((p) => claims(p.fingerprint));
    const prior = i >= 0 ? unclaimed.splice(i, 1)[0] : undefined;
    const sensorSpecs = spec.detectors.filter((d): d is SensorDetectorSpec => !isGroupSpec(d));
    return {
      sensorSpecs,
      groups: spec.detectors.filter(isGroupSpec).map((g) => ({ matches: compileGlob(g.group), group: createDeviceGroup(g, (prior?.groups as SavedGroup[] | undefined)?.find((x) => x.key === groupKey(g))) })),
      spec,
      ticking: spec.detectors.some((d) => d.type === 'gap'),
      fingerprint,
      matches: compileGlobs(spec.match),
      stale: spec.staleAfter === 'off' ? undefined : typeof spec.staleAfter === 'number' ? { ...DEFAULT_STALE, staleAfterMs: spec.staleAfter } : DEFAULT_STALE,
      windows: createWindows(spec.window, wantsQuantiles(spec.aggregates), prior?.windows),
      detectors: new Map((prior?.detectors ?? []).map(([sensor, states]) => [sensor, sensorSpecs.map((d, j) => createDetector(d, states[j]))])),
    };
  });
  const staleness = createStaleness(saved?.presence);
  // A checkpoint from before staleness existed: its journal is replayed as that version ran it,
  // with no stale events (they would shift every later seq); the stream rebuilt after the
  // replay (from this one's save(), which has presence) starts judging.
  const staleOn = saved === undefined || saved.presence !== undefined;
  const availability = createAvailability(saved?.availability);
  const events: Array<StaleEvent | AvailabilityEvent> = [];
  /** Per sensor: its pipeline (null: none) and what of rules it feeds (cached together: one lookup a reading). */
  const routes = new Map<string, { p: PipelineState | null; w: Watch | undefined }>();
  /** Group detectors of every pipeline, and those each sensor feeds (cached like routes). */
  const allGroups = pipelines.flatMap((p) => p.groups);
  const groupRoutes = new Map<string, PipelineState['groups']>();
  const closed: WindowResult[] = [];
  const rules: RuleEngine | undefined =
    (options.rules?.length ?? 0) > 0 || (options.derived?.length ?? 0) > 0 || saved?.rules !== undefined
      ? createRuleEngine(options.rules ?? [], options.derived ?? [], (sensor) => staleness.isRaised(sensor), saved?.rules)
      : undefined;

  const routeOf = (sensor: string) => {
    let x = routes.get(sensor);
    if (x === undefined) {
      x = { p: pipelines.find((p) => p.matches(sensor)) ?? null, w: rules?.watchOf(sensor) };
      routes.set(sensor, x);
    }
    return x;
  };
  const route = (sensor: string): PipelineState | null => routeOf(sensor).p;

  const drainClosed = (p: PipelineState, out: StreamOutput[], now?: number) => {
    for (const w of closed) {
      const i = out.push({
        kind: 'summary',
        sensor: w.sensor,
        start: w.start,
        end: w.end,
        count: w.moments.count,
        values: aggregateValues(w.moments, p.spec.aggregates, w.sketch),
        late: w.late,
        partial: w.partial,
        ...(w.sketch && { sketch: w.sketch }),
      });
      if (rules && now !== undefined && !w.partial) rules.window(w.sensor, (out[i - 1] as { values: Record<string, number> }).values, now, out);
    }
    closed.length = 0;
  };

  /** drainClosed for partial summaries: one already sent, identical, with no reading since is not sent again. */
  const drainPartials = (p: PipelineState, out: StreamOutput[]) => {
    const from = out.length;
    drainClosed(p, out);
    let kept = from;
    for (let i = from; i < out.length; i++) {
      const o = out[i]!;
      const key = flushKey(p.fingerprint, o);
      const keys = flushed.get(o.sensor);
      if (keys?.includes(key)) continue;
      if (keys) keys.push(key);
      else flushed.set(o.sensor, [key]);
      out[kept++] = o;
    }
    out.length = kept;
  };

  const derived: Reading[] = [];
  /**
   * A reading through routing, then rules and derived sensors; the derived readings it makes
   * (each computed once, in dependency order) are routed in turn, not observed again.
   */
  const feed = (r: Reading, out: StreamOutput[]): ReturnType<Stream['ingest']> => {
    const rt = routeOf(r.sensor);
    const outcome = intoPipeline(r, out, rt.p);
    if (!rt.w) return outcome;
    rules!.observe(rt.w, r, out, derived);
    if (derived.length > 0) for (const d of derived.splice(0)) intoPipeline(d, out, route(d.sensor));
    return outcome === 'unrouted' ? 'ok' : outcome;
  };

  /** A reading into its pipeline (null: none): staleness, detectors, group detectors, windows. */
  const intoPipeline = (r: Reading, out: StreamOutput[], p: PipelineState | null): ReturnType<Stream['ingest']> => {
    if (!p) return 'unrouted';
    if (tombstones.size > 0) {
      const reported = tombstones.get(r.sensor);
      if (reported !== undefined) {
        if (r.ts < reported) return 'late';
        tombstones.delete(r.sensor);
      }
    }
    if (flushed.size > 0) flushed.delete(r.sensor); // a new reading: a later flush reports something new
    if (idleTtlMs > 0) seen.set(r.sensor, r.receivedAt); // no re-insertion per reading: tick scans them all
    // A raised sensor whose pipeline has staleness off now (a config change) still clears.
    if (staleOn && (p.stale || staleness.isRaised(r.sensor))) {
      staleness.observe(r.sensor, r.receivedAt, p.stale ?? DEFAULT_STALE, events);
      if (events.length > 0) out.push(...events.splice(0));
    }
    let dets = p.detectors.get(r.sensor);
    if (!dets) {
      dets = p.sensorSpecs.map((d) => createDetector(d));
      p.detectors.set(r.sensor, dets);
    }
    for (const d of dets) {
      const verdict = d.observe(r.ts, r.value, r.receivedAt);
      if (verdict) out.push({ kind: 'anomaly', sensor: r.sensor, ts: r.ts, value: r.value, verdict });
    }
    // A group watches every sensor its glob matches, whichever pipeline the sensor is routed to.
    if (allGroups.length > 0) {
      let gs = groupRoutes.get(r.sensor);
      if (!gs) {
        gs = allGroups.filter((g) => g.matches(r.sensor));
        groupRoutes.set(r.sensor, gs);
      }
      for (const g of gs) {
        const e = g.group.observe(r.sensor, r.ts, r.value);
        if (e) out.push({ kind: 'anomaly', sensor: g.group.id, ts: e.ts, value: e.value, verdict: e.verdict });
      }
    }
    const onTime = p.windows.add(r, closed);
    drainClosed(p, out, r.receivedAt);
    return onTime ? 'ok' : 'late';
  };

  return {
    ingest: (r, out) => (rules ? feed(r, out) : intoPipeline(r, out, route(r.sensor))),
    tick(now, out) {
      let changed = false;
      if (idleTtlMs > 0) {
        // A scan of every sensor with state (a few microseconds per thousand, once a tick).
        for (const [sensor, last] of seen) {
          if (now - last <= idleTtlMs) continue;
          seen.delete(sensor);
          const p = route(sensor);
          routes.delete(sensor);
          groupRoutes.delete(sensor);
          changed = true;
          if (!p) continue;
          const reported = p.windows.forget(sensor, closed);
          drainPartials(p, out);
          if (reported > -Infinity) {
            tombstones.set(sensor, reported);
            if (tombstones.size > MAX_TOMBSTONES) tombstones.delete(tombstones.keys().next().value!);
          }
          p.detectors.delete(sensor);
          flushed.delete(sensor);
          staleness.forget(sensor);
        }
      }
      if (staleOn && staleness.tick(now, (sensor) => route(sensor)?.stale, events)) {
        out.push(...events.splice(0));
        changed = true;
      }
      for (const p of pipelines) {
        if (p.windows.tick(now, closed)) changed = true;
        drainClosed(p, out, now);
        if (!p.ticking) continue;
        // Detectors that watch the wall clock (gap): a quiet sensor is an event too.
        for (const [sensor, dets] of p.detectors) {
          for (const d of dets) {
            const verdict = d.tick?.(now);
            if (!verdict) continue;
            out.push({ kind: 'anomaly', sensor, ts: now, value: verdict.evidence.lastValue ?? NaN, verdict });
            changed = true;
          }
        }
      }
      if (rules?.tick(now, out)) changed = true;
      return changed;
    },
    rulesRaised: () => rules?.raised() ?? [],
    retireRules(now, out) {
      rules?.retire(now, out);
    },
    flush(out, which) {
      for (const p of pipelines) {
        if (which && !which(p.fingerprint)) continue;
        p.windows.flush(closed);
        drainPartials(p, out);
      }
    },
    openWindows() {
      return pipelines.reduce((n, p) => n + p.windows.openWindows(), 0);
    },
    shiftArrivals(deltaMs) {
      for (const p of pipelines) p.windows.shiftArrivals(deltaMs);
      for (const [sensor, last] of seen) seen.set(sensor, last + deltaMs);
      staleness.shift(deltaMs);
      rules?.shift(deltaMs);
    },
    availability(device, online, at, out) {
      const changed = availability.report(device, online, at, events);
      out.push(...events.splice(0));
      return changed;
    },
    learning(limit) {
      const report = learningReport(limit);
      for (const p of pipelines) {
        for (const [sensor, dets] of p.detectors) {
          for (let j = 0; j < dets.length; j++) {
            const d = dets[j]!;
            if (d.learned) report.consider(sensor, p.sensorSpecs[j]!.type, d.learned());
          }
        }
        for (const g of p.groups) report.consider(g.group.id, 'multivariate', g.group.learned());
      }
      return report.result();
    },
    resetDetectors(matches) {
      let n = 0;
      for (const p of pipelines) {
        for (const sensor of [...p.detectors.keys()]) {
          if (!matches(sensor)) continue;
          p.detectors.set(sensor, p.sensorSpecs.map((d) => createDetector(d)));
          n++;
        }
        for (const g of p.groups) {
          if (!matches(g.group.id)) continue;
          g.group.reset();
          n++;
        }
      }
      return n;
    },
    sensorIds(limit) {
      const ids = new Set<string>();
      for (const p of pipelines) {
        for (const sensor of p.detectors.keys()) {
          if (ids.size >= limit) return [...ids];
          ids.add(sensor);
        }
      }
      return [...ids];
    },
    presence(limit) {
      const stale = staleness.raisedSensors(limit);
      return { stale, staleCount: staleness.raised(), offline: availability.offline() };
    },
    sensors: () => seen.size,
    save() {
      return {
        pipelines: pipelines.map((p) => ({
          fingerprint: p.fingerprint,
          windows: p.windows.save(),
          detectors: [...p.detectors].map(([sensor, dets]): [string, unknown[]] => [sensor, dets.map((d) => d.save())]),
          ...(p.groups.length > 0 && { groups: p.groups.map((g) => g.group.save()) }),
        })),
        ...(idleTtlMs > 0 && { seen: [...seen], idleTtlMs }),
        ...(flushed.size > 0 && { flushed: [...flushed] }),
        ...(tombstones.size > 0 && { tombstones: [...tombstones] }),
        presence: staleness.save(),
        availability: availability.save(),
        ...(rules && { rules: rules.save() }),
      };
    },
  };
}
