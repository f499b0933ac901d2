// Rules and derived sensors inside the stream stage. The engine keeps the latest reading of
// every sensor they name (by event time: an older reading arriving late changes nothing), the
// latest complete window of sensors tested by aggregate, and each rule's state machine
// (rule-state.ts). A reading is stepped through the rules that read its sensor, directly or
// through another rule, in dependency order; the tick steps every rule (durations, staleness,
// cooldowns, clearAfter). Derived sensors are computed when one of their inputs has a new
// latest reading and every input is fresh; the stream ingests their readings like any other.
// Pure and deterministic in its inputs (readings and journaled ticks), so checkpoint + journal
// replay rebuilds it exactly.
import type { Reading } from '../reading.js';
import type { AggregateName } from '../aggregate-names.js';
import type { Sink } from '../staleness.js';
import { compileCondition, conditionUses, type ConditionContext, type ConditionUses, type Slot } from './conditions.js';
import { computeDerived, createDerivedSet, type DerivedSensor, type Latest } from './derived-sensors.js';
import { catchUp, clearEvent, freshRuleState, shiftRuleState, stepRule, type RuleMachine } from './rule-state.js';
import type { DerivedSpec, RuleEvent, RuleSpec, SavedRules } from './rule-types.js';

export interface RuleEngine {
  /** What readings of `sensor` matter to (rules, derived sensors), or undefined: the caller may cache it per sensor. */
  watchOf(sensor: string): Watch | undefined;
  /** A reading of a watched sensor arrived: the derived readings it makes go to `derived` (for the stream to route; not to observe again). */
  observe(w: Watch, r: Reading, out: Sink<RuleEvent>, derived: Reading[]): void;
  /** A complete window of `sensor` closed at `now` (wall clock); nothing when no rule tests its aggregates. */
  window(sensor: string, values: Partial<Record<AggregateName, number>>, now: number, out: Sink<RuleEvent>): void;
  /** Steps every rule; returns whether any state changed. */
  tick(now: number, out: Sink<RuleEvent>): boolean;
  /** Rules raised now. */
  raised(): Array<{ rule: string; severity: RuleSpec['severity']; since: number; raisedAt: number }>;
  /**
   * Clears the raised rules of the saved state that are no longer configured (removed or
   * changed): the hand-over after a restart. Until then they are kept in save().
   */
  retire(now: number, out: Sink<RuleEvent>): void;
  /** The wall clock jumped by `deltaMs` (journaled): times move with it, so holds keep their length. */
  shift(deltaMs: number): void;
  save(): SavedRules;
}

export { DEFAULT_DERIVED_MAX_AGE } from './derived-sensors.js';

/**
 * What a rule's state belongs to: its spec but what it says (message) and how loud (severity),
 * so changing those keeps a hold under way.
 */
export function ruleKey(spec: RuleSpec): string {
  const { message: _m, severity: _s, ...rest } = spec;
  return JSON.stringify(rest);
}

/** Rules in an order where each comes after the rules it reads; throws on a cycle or an unknown rule. */
export function ruleOrder(rules: readonly RuleSpec[]): RuleSpec[] {
  const byId = new Map(rules.map((r) => [r.id, r]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const order: RuleSpec[] = [];
  const visit = (r: RuleSpec, path: string[]) => {
    if (done.has(r.id)) return;
    if (visiting.has(r.id)) throw new Error(`rules form a cycle: ${[...path, r.id].join(' -> ')}`);
    visiting.add(r.id);
    for (const dep of usesOf(r).rules) {
      const d = byId.get(dep);
      if (!d) throw new Error(`rule "${r.id}" reads rule "${dep}", which does not exist`);
      visit(d, [...path, r.id]);
    }
    visiting.delete(r.id);
    done.add(r.id);
    order.push(r);
  };
  for (const r of rules) visit(r, []);
  return order;
}

export function usesOf(r: RuleSpec): ConditionUses {
  const uses: ConditionUses = { values: [], sensors: new Set(), rules: new Set() };
  for (const c of r.sequence ?? (r.when ? [r.when] : [])) conditionUses(c, uses);
  return uses;
}

/** What a watched sensor's reading goes to. */
export interface Watch {
  slot: Latest;
  /** The rules to bring up to date and step: those reading it or a derived sensor it changes (and their readers), in order. */
  rules: number[] | undefined;
  /** The derived sensors it changes, in dependency order. */
  derived: readonly DerivedSensor[] | undefined;
}

const EMPTY: never[] = [];

export function createRuleEngine(specs: readonly RuleSpec[], derivedSpecs: readonly DerivedSpec[], isStale: (sensor: string) => boolean, saved?: SavedRules): RuleEngine {
  const ordered = ruleOrder(specs);
  const savedByKey = new Map((saved?.rules ?? []).map((s) => [s.key, s]));
  const index = new Map(ordered.map((r, i) => [r.id, i]));
  const machines: RuleMachine[] = [];

  // Every sensor and aggregate a rule or derived sensor reads has one slot, bound into the
  // compiled conditions and expressions (no lookup per reading).
  const latest = new Map<string, Latest>();
  const slot = (sensor: string): Latest => {
    let l = latest.get(sensor);
    if (!l) latest.set(sensor, (l = { ts: -Infinity, value: undefined, at: -Infinity }));
    return l;
  };
  for (const [sensor, ts, value, at] of saved?.latest ?? []) Object.assign(slot(sensor), { ts, value, at });
  const windows = new Map<string, Partial<Record<AggregateName, number>>>(saved?.windows ?? []);
  const aggregates = new Map<string, Map<AggregateName, Slot>>();
  const aggregateSlot = (sensor: string, name: AggregateName): Slot => {
    let bySensor = aggregates.get(sensor);
    if (!bySensor) aggregates.set(sensor, (bySensor = new Map()));
    let x = bySensor.get(name);
    if (!x) bySensor.set(name, (x = { value: windows.get(sensor)?.[name] }));
    return x;
  };
  const ctx: ConditionContext = {
    value: slot,
    aggregate: aggregateSlot,
    stale: isStale,
    raised: (rule) => {
      const i = index.get(rule);
      return () => (i === undefined ? false : (machines[i]?.state.raised ?? false));
    },
  };
  for (const spec of ordered) {
    let n = 0;
    const conds = (spec.sequence ?? [spec.when!]).map((c) => {
      const compiled = compileCondition(c, ctx, n);
      n += compiled.leafCount;
      return compiled;
    });
    const key = ruleKey(spec);
    const prior = savedByKey.get(key);
    savedByKey.delete(key);
    const state = prior ? structuredClone(prior) : freshRuleState(key, n, conds.length, spec);
    machines.push({ spec, conds, state, before: new Array<boolean>(n).fill(false), truths: new Array<boolean>(conds.length).fill(false) });
  }
  // Saved rules no longer configured: kept until retire() clears them (the hand-over after a restart).
  const orphans: RuleMachine[] = [...savedByKey.values()].map((state) => ({
    spec: { ...(JSON.parse(state.key) as RuleSpec), severity: state.severity ?? 'warning' },
    conds: [],
    state: structuredClone(state),
    before: [],
    truths: [],
  }));
  const uses = machines.map((m) => usesOf(m.spec));
  const derived = createDerivedSet(derivedSpecs, slot);

  // For each sensor: the rules to step on its reading (those that read it or a derived sensor
  // it changes, and those that read them), in dependency order. Likewise for window aggregates.
  const closure = (direct: Set<number>): number[] => {
    const all = new Set(direct);
    for (let i = 0; i < machines.length; i++) {
      if (all.has(i)) continue;
      for (const dep of uses[i]!.rules) if (all.has(index.get(dep)!)) all.add(i);
    }
    return [...all].sort((a, b) => a - b);
  };
  const readers = new Map<string, Set<number>>();
  const windowReaders = new Map<string, Set<number>>();
  uses.forEach((u, i) => {
    for (const sensor of u.sensors) (readers.get(sensor) ?? readers.set(sensor, new Set()).get(sensor)!).add(i);
    for (const v of u.values) if (v.aggregate) (windowReaders.get(v.sensor) ?? windowReaders.set(v.sensor, new Set()).get(v.sensor)!).add(i);
  });
  const byWindow = new Map([...windowReaders].map(([sensor, set]) => [sensor, closure(set)]));
  /** Per watched sensor, all a reading needs: one lookup on the hot path. */
  const watched = new Map<string, Watch>();
  for (const sensor of new Set([...readers.keys(), ...derived.sensors()])) {
    const changes = derived.affected(sensor);
    const direct = new Set([sensor, ...(changes ?? EMPTY).map((d) => d.spec.sensor)].flatMap((x) => [...(readers.get(x) ?? EMPTY)]));
    watched.set(sensor, { slot: slot(sensor), rules: direct.size > 0 ? closure(direct) : undefined, derived: changes });
  }

  const valuesOf = (i: number) => () => {
    const vs: Record<string, number> = {};
    for (const v of uses[i]!.values) {
      const x = v.aggregate ? aggregateSlot(v.sensor, v.aggregate).value : latest.get(v.sensor)?.value;
      if (x !== undefined && Number.isFinite(x)) vs[v.key] = x;
    }
    return vs;
  };
  const evidence = machines.map((_, i) => valuesOf(i));
  /** `track`: whether the caller needs to know of a change (ticks). */
  const step = (list: readonly number[], now: number, out: Sink<RuleEvent>, track = false) => {
    let changed = false;
    for (let j = 0; j < list.length; j++) if (stepRule(machines[list[j]!]!, now, evidence[list[j]!]!, out, track)) changed = true;
    return changed;
  };
  const all = machines.map((_, i) => i);
  /** Moments due before `now` happen with the values that held then: before a new value lands. */
  const catchUpAll = (list: readonly number[] | undefined, now: number, out: Sink<RuleEvent>) => {
    if (list) for (let j = 0; j < list.length; j++) catchUp(machines[list[j]!]!, now, evidence[list[j]!]!, out);
  };

  return {
    watchOf: (sensor) => watched.get(sensor),
    observe(w, r, out, derivedOut) {
      const l = w.slot;
      if (r.ts < l.ts) return; // an older reading arriving late: the latest stands
      const rules = w.rules;
      catchUpAll(rules, r.receivedAt, out);
      l.ts = r.ts;
      l.value = r.value;
      l.at = r.receivedAt;
      const ds = w.derived;
      if (ds) {
        for (let j = 0; j < ds.length; j++) {
          const d = computeDerived(ds[j]!, r.receivedAt);
          if (d) derivedOut.push(d);
        }
      }
      if (rules) step(rules, r.receivedAt, out);
    },
    window(sensor, values, now, out) {
      const rules = byWindow.get(sensor);
      if (!rules) return;
      catchUpAll(rules, now, out);
      // A non-finite aggregate (it cannot arise from admitted readings) is absent, not null in a checkpoint.
      const kept = Object.fromEntries(Object.entries(values).filter(([, v]) => Number.isFinite(v)));
      windows.set(sensor, kept);
      for (const [name, x] of aggregates.get(sensor) ?? []) x.value = kept[name];
      step(rules, now, out);
    },
    tick: (now, out) => step(all, now, out, true),
    raised: () => machines.filter((m) => m.state.raised).map((m) => ({ rule: m.spec.id, severity: m.spec.severity, since: m.state.since ?? 0, raisedAt: m.state.raisedAt ?? 0 })),
    retire(now, out) {
      for (const m of orphans) if (m.state.raised) out.push(clearEvent(m, now, {}, 'the rule was removed or changed in the config'));
      orphans.length = 0;
    },
    shift(deltaMs) {
      for (const m of [...machines, ...orphans]) shiftRuleState(m.state, deltaMs);
      // Arrivals move; event times only back (a reading the agent stamps after a step back must
      // not look older than the latest; a step forward needs nothing).
      for (const l of latest.values()) {
        l.at += deltaMs;
        l.ts += Math.min(0, deltaMs);
      }
    },
    save: () => ({
      latest: [...latest].filter(([, l]) => l.value !== undefined).map(([s, l]): [string, number, number, number] => [s, l.ts, l.value!, l.at]),
      windows: [...windows],
      rules: [...machines, ...orphans.filter((m) => m.state.raised)].map((m) => m.state),
    }),
  };
}
