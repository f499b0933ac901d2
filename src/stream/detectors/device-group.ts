// A multivariate detector on a group of sensors (`{ type: multivariate, group: "pump1/*" }` in
// a pipeline's detectors): their readings aligned on a common cadence (`every`, event time):
// when a member's reading crosses the next boundary, the group's row at that boundary is the
// latest value of each member. A member counts as present while its latest reading is no older
// than 3 x `every` or 3 x its own reporting interval, whichever is longer (a sensor that
// reports once a minute is not missing from a 10 s cadence). A row with every member goes to
// the model (multivariate.ts) and teaches it; a row with some missing is judged on those
// present and teaches nothing; with fewer than two, there is no row. Members are the sensors
// (in id order, at most `maxSensors`) the group saw in its first three boundaries; one that
// appears later waits for a detector.reset. One event per fault (a cooldown in rows, extended
// while anomalous), on the group's own id (`id`, default "<group prefix>/joint"), naming the
// sensors that moved most.
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
  /** Operating states remembered, each with its own mean and covariance. */
  regimes: number;
  threshold: number;
  cooldown: number;
  severity: Severity;
}

export interface SavedGroup {
  /** The spec this state belongs to (groupKey): a changed group starts afresh. */
  key?: string;
  firstAt?: number | null;
  members: string[];
  /** sensor, time of its latest reading, value, and its reporting interval (ms, 0: unknown). */
  latest: Array<[string, number, number, number?]>;
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

/** What a group's state depends on: its spec without the options that only decide when it speaks. */
export function groupKey(spec: GroupSpec): string {
  const { threshold: _t, cooldown: _c, severity: _s, minRows: _m, regimes: _r, ...rest } = spec;
  return JSON.stringify(rest);
}

/** The id a group's events go on: its literal prefix (before the first wildcard) + "/joint". */
export function groupId(spec: Pick<GroupSpec, 'group' | 'id'>): string {
  if (spec.id) return spec.id;
  const prefix = spec.group.split('/').filter((l, i, all) => !all.slice(0, i + 1).some((x) => x.includes('*') || x.includes('?') || x.includes('['))).join('/');
  return `${prefix || 'group'}/joint`;
}

const STALE_BOUNDARIES = 3;
/** Sensors kept while the members are being gathered (the first maxSensors by id are chosen). */
const GATHER_MAX = 64;

export function createDeviceGroup(spec: GroupSpec, saved?: SavedGroup): DeviceGroup {
  const id = groupId(spec);
  let members = saved?.members ?? [];
  const latest = new Map<string, [number, number, number]>((saved?.latest ?? []).map(([s, t, v, gap]) => [s, [t, v, gap ?? 0]]));
  let nextAt = saved?.nextAt ?? null;
  let firstAt = saved?.firstAt ?? null;
  let quiet = saved?.quiet ?? 0;
  let model: MultivariateModel | undefined = saved?.model ? createMultivariateModel(saved.model.k, spec, saved.model) : undefined;
  const row: number[] = [];

  /** The row at `boundary`: NaN for a member with no recent reading; undefined with fewer than two present. */
  const rowAt = (boundary: number): number[] | undefined => {
    row.length = 0;
    let present = 0;
    for (const m of members) {
      const l = latest.get(m);
      const fresh = l !== undefined && l[0] >= boundary - STALE_BOUNDARIES * Math.max(spec.every, l[2]);
      row.push(fresh ? l[1] : NaN);
      if (fresh) present++;
    }
    return present >= 2 ? row : undefined;
  };

  const judge = (boundary: number): { ts: number; value: number; verdict: Verdict } | undefined => {
    if (!model) {
      // Gathering members for three boundaries; then the model starts, if two or more reported.
      const known = [...latest.keys()].sort().slice(0, spec.maxSensors);
      if (known.length < 2 || firstAt === null || boundary < firstAt + STALE_BOUNDARIES * spec.every) return undefined;
      members = known;
      for (const s of [...latest.keys()]) if (!members.includes(s)) latest.delete(s);
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
    const { t2, p, shares, regime, regimes } = model.explain();
    const ranked = members.map((m, i) => [m, shares[i]!] as const).sort((a, b) => b[1] - a[1]);
    const top = ranked.filter(([, s]) => s > 0).slice(0, 2);
    const state = regimes > 1 ? `, closest to operating state ${regime + 1} of ${regimes}` : '';
    const message = `the joint behaviour of ${spec.group} is unusual (T² ${round(t2)} over ${members.length} sensors, p ${p.toPrecision(2)}${state})${top.length ? `: mostly ${top.map(([m, s]) => `${m} (${Math.round(s * 100)}%)`).join(' and ')}` : ''}`;
    const evidence: Record<string, number> = { t2: round(t2), sensors: members.length, ...(regimes > 1 && { regime: regime + 1, regimes }) };
    for (const [m, s] of ranked.slice(0, 5)) evidence[`share:${m}`] = round(s);
    return { ts: boundary, value: round(t2), verdict: { detector: 'multivariate', severity: spec.severity, score: Math.round(score * 1e4) / 1e4, message, evidence } };
  };

  return {
    id,
    observe(sensor, ts, value) {
      // Once the model runs, a newcomer waits for a reset (the model is k-wide); while members
      // are gathered, a bounded number of candidates is kept.
      const prior = latest.get(sensor);
      if (model ? !members.includes(sensor) : !prior && latest.size >= GATHER_MAX) return undefined;
      firstAt ??= ts;
      let event: { ts: number; value: number; verdict: Verdict } | undefined;
      if (nextAt === null) nextAt = Math.floor(ts / spec.every) * spec.every + spec.every;
      else if (ts >= nextAt) {
        event = judge(nextAt);
        nextAt = Math.floor(ts / spec.every) * spec.every + spec.every;
      }
      // A late reading does not replace a newer one; the interval is a slow mean of the spacing.
      if (!prior) latest.set(sensor, [ts, value, 0]);
      else if (ts >= prior[0]) latest.set(sensor, [ts, value, prior[2] === 0 ? ts - prior[0] : prior[2] + 0.1 * (ts - prior[0] - prior[2])]);
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
    save: () => ({ key: groupKey(spec), firstAt, members: [...members], latest: [...latest].map(([s, [t, v, gap]]) => [s, t, v, gap]), nextAt, quiet, model: model ? model.save() : null }),
  };
}
