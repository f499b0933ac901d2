// A multivariate detector on a group of sensors (`{ type: multivariate, group: "pump1/*" }` in
// a pipeline's detectors): their readings aligned on a common cadence (`every`, event time):
// when a reading crosses the next boundary, the group's row at that boundary is the latest
// value of each member, if every member has one from the last `3 x every`; the row goes to the
// model (multivariate.ts). Members are the first sensors (in id order, at most `maxSensors`)
// the group saw during its warm-up; a sensor that appears later is left out until a
// detector.reset. One event per fault (a cooldown in rows, extended while anomalous), on the
// group's own id (`id`, default "<group prefix>/joint"), naming the sensors that moved most.
import { round, type Severity, type Verdict } from './detector.js';
import { createMultivariateModel, type MultivariateModel, type SavedModel } from './multivariate.js';

export interface GroupSpec {
  type: 'multivariate';
  group: string;
  id?: string;
  every: number;
  alpha: number;
  minRows: number;
  maxSensors: number;
  threshold: number;
  cooldown: number;
  severity: Severity;
}

export interface SavedGroup {
  firstAt?: number | null;
  members: string[];
  latest: Array<[string, number, number]>;
  nextAt: number | null;
  quiet: number;
  model: SavedModel | null;
}

export interface DeviceGroup {
  readonly id: string;
  /** A reading of one of the group's sensors (the caller matched the glob): maybe an event. */
  observe(sensor: string, ts: number, value: number): { ts: number; value: number; verdict: Verdict } | undefined;
  learned(): number;
  reset(): void;
  save(): SavedGroup;
}

/** The id a group's events go on: its literal prefix (before the first wildcard) + "/joint". */
export function groupId(spec: Pick<GroupSpec, 'group' | 'id'>): string {
  if (spec.id) return spec.id;
  const prefix = spec.group.split('/').filter((l, i, all) => !all.slice(0, i + 1).some((x) => x.includes('*') || x.includes('?') || x.includes('['))).join('/');
  return `${prefix || 'group'}/joint`;
}

const STALE_BOUNDARIES = 3;

export function createDeviceGroup(spec: GroupSpec, saved?: SavedGroup): DeviceGroup {
  const id = groupId(spec);
  let members = saved?.members ?? [];
  const latest = new Map<string, [number, number]>((saved?.latest ?? []).map(([s, t, v]) => [s, [t, v]]));
  let nextAt = saved?.nextAt ?? null;
  let firstAt = saved?.firstAt ?? null;
  let quiet = saved?.quiet ?? 0;
  let model: MultivariateModel | undefined = saved?.model ? createMultivariateModel(saved.model.k, spec, saved.model) : undefined;
  const row: number[] = [];

  const rowAt = (boundary: number): number[] | undefined => {
    row.length = 0;
    for (const m of members) {
      const l = latest.get(m);
      if (!l || l[0] < boundary - STALE_BOUNDARIES * spec.every) return undefined;
      row.push(l[1]);
    }
    return row;
  };

  const judge = (boundary: number): { ts: number; value: number; verdict: Verdict } | undefined => {
    if (!model) {
      // Gathering members for three boundaries; then the model starts, if two or more reported.
      const known = [...latest.keys()].sort().slice(0, spec.maxSensors);
      if (known.length < 2 || firstAt === null || boundary < firstAt + STALE_BOUNDARIES * spec.every) return undefined;
      members = known;
      model = createMultivariateModel(members.length, spec);
    }
    const r = rowAt(boundary);
    if (!r) return undefined;
    const score = model.assess(r);
    if (score < 0) return undefined;
    const hot = score >= spec.threshold;
    if (quiet > 0) {
      quiet = hot ? spec.cooldown : quiet - 1;
      return undefined;
    }
    if (!hot) return undefined;
    quiet = spec.cooldown;
    const { t2, p, shares } = model.explain();
    const ranked = members.map((m, i) => [m, shares[i]!] as const).sort((a, b) => b[1] - a[1]);
    const top = ranked.filter(([, s]) => s > 0).slice(0, 2);
    const message = `the joint behaviour of ${spec.group} is unusual (T² ${round(t2)} over ${members.length} sensors, p ${p.toPrecision(2)})${top.length ? `: mostly ${top.map(([m, s]) => `${m} (${Math.round(s * 100)}%)`).join(' and ')}` : ''}`;
    const evidence: Record<string, number> = { t2: round(t2), sensors: members.length };
    for (const [m, s] of ranked.slice(0, 5)) evidence[`share:${m}`] = round(s);
    return { ts: boundary, value: round(t2), verdict: { detector: 'multivariate', severity: spec.severity, score: Math.round(score * 1e4) / 1e4, message, evidence } };
  };

  return {
    id,
    observe(sensor, ts, value) {
      firstAt ??= ts;
      let event: { ts: number; value: number; verdict: Verdict } | undefined;
      if (nextAt === null) nextAt = Math.floor(ts / spec.every) * spec.every + spec.every;
      else if (ts >= nextAt) {
        event = judge(nextAt);
        nextAt = Math.floor(ts / spec.every) * spec.every + spec.every;
      }
      // Members only: once the model runs, a newcomer waits for a reset (the model is k-wide).
      if (!model || members.includes(sensor)) {
        if (model || latest.size < spec.maxSensors || latest.has(sensor)) latest.set(sensor, [ts, value]);
      }
      return event;
    },
    learned: () => (model ? model.learned() : 0),
    reset() {
      members = [];
      latest.clear();
      nextAt = null;
      firstAt = null;
      quiet = 0;
      model = undefined;
    },
    save: () => ({ firstAt, members: [...members], latest: [...latest].map(([s, [t, v]]) => [s, t, v]), nextAt, quiet, model: model ? model.save() : null }),
  };
}
