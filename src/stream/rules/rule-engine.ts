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
import { compileExpression, type Expression } from './expression.js';
import { catchUp, clearEvent, freshRuleState, stepRule, type RuleMachine } from './rule-state.js';
import type { DerivedSpec, RuleEvent, RuleSpec, SavedRules } from './rule-types.js';

export interface RuleEngine {
  /** What readings of `sensor` matter to (rules, derived sensors), or undefined: the caller may cache it per sensor. */
  watchOf(sensor: string): Watch | undefined;
  /** A reading of a watched sensor arrived: rules that read it step; derived readings it completes go to `derived`. */
  observe(w: Watch, r: Reading, out: Sink<RuleEvent>, derived: Reading[]): void;
  /** Whether a rule tests this sensor's window aggregates. */
  wantsWindow(sensor: string): boolean;
  /** A complete window of `sensor` closed at `now` (wall clock). */
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
  /** Each rule's key (its spec): a changed rule starts afresh. */
  keys(): string[];
  save(): SavedRules;
}

export const DEFAULT_DERIVED_MAX_AGE = 300_000;

export function ruleKey(spec: RuleSpec): string {
  return JSON.stringify(spec);
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

/** A sensor's latest reading (value undefined before the first): conditions hold a reference. */
interface Latest extends Slot {
  ts: number;
  at: number;
}

/** What a watched sensor's reading goes to. */
export interface Watch {
  slot: Latest;
  rules: number[] | undefined;
  derived: Derived[] | undefined;
}

interface Derived {
  spec: DerivedSpec;
  expr: Expression;
  maxAge: number;
  scratch: number[];
  inputs: Latest[];
}

export function createRuleEngine(specs: readonly RuleSpec[], derivedSpecs: readonly DerivedSpec[], isStale: (sensor: string) => boolean, saved?: SavedRules): RuleEngine {
  const ordered = ruleOrder(specs);
  const savedByKey = new Map((saved?.rules ?? []).map((s) => [s.key, s]));
  const index = new Map(ordered.map((r, i) => [r.id, i]));
  const machines: RuleMachine[] = [];

  // Every sensor and aggregate a rule or derived sensor reads has one slot, bound into the
  // compiled conditions (no lookup per reading).
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
  const orphans: RuleMachine[] = [...savedByKey.values()].map((state) => ({ spec: JSON.parse(state.key) as RuleSpec, conds: [], state: structuredClone(state), before: [], truths: [] }));
  const uses = machines.map((m) => usesOf(m.spec));

  // For each sensor: the rules to step on its reading (those that read it, and those that read
  // them), in dependency order. Likewise for window aggregates.
  const closure = (direct: Set<number>): number[] => {
    const all = new Set(direct);
    for (let i = 0; i < machines.length; i++) {
      if (all.has(i)) continue;
      for (const dep of uses[i]!.rules) if (all.has(index.get(dep)!)) all.add(i);
    }
    return [...all].sort((a, b) => a - b);
  };
  const bySensor = new Map<string, number[]>();
  const byWindow = new Map<string, number[]>();
  {
    const direct = new Map<string, Set<number>>();
    const directWindow = new Map<string, Set<number>>();
    uses.forEach((u, i) => {
      for (const sensor of u.sensors) (direct.get(sensor) ?? direct.set(sensor, new Set()).get(sensor)!).add(i);
      for (const v of u.values) if (v.aggregate) (directWindow.get(v.sensor) ?? directWindow.set(v.sensor, new Set()).get(v.sensor)!).add(i);
    });
    for (const [sensor, set] of direct) bySensor.set(sensor, closure(set));
    for (const [sensor, set] of directWindow) byWindow.set(sensor, closure(set));
  }

  const derived: Derived[] = derivedSpecs.map((spec) => {
    const expr = compileExpression(spec.expr);
    return { spec, expr, maxAge: spec.maxAge ?? DEFAULT_DERIVED_MAX_AGE, scratch: new Array<number>(expr.inputs.length).fill(0), inputs: expr.inputs.map(slot) };
  });
  const derivedBySensor = new Map<string, Derived[]>();
  for (const d of derived) for (const input of d.expr.inputs) (derivedBySensor.get(input) ?? derivedBySensor.set(input, []).get(input)!).push(d);
  /** Per watched sensor, all a reading needs: one lookup on the hot path. */
  const watched = new Map<string, Watch>();
  for (const sensor of new Set([...bySensor.keys(), ...derivedBySensor.keys()])) watched.set(sensor, { slot: slot(sensor), rules: bySensor.get(sensor), derived: derivedBySensor.get(sensor) });

  const valuesOf = (i: number) => () => {
    const vs: Record<string, number> = {};
    for (const v of uses[i]!.values) {
      const x = v.aggregate ? windows.get(v.sensor)?.[v.aggregate] : latest.get(v.sensor)?.value;
      if (x !== undefined) vs[v.key] = x;
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
        for (const d of ds) {
          let ts = -Infinity;
          let fresh = true;
          for (let j = 0; j < d.inputs.length; j++) {
            const input = d.inputs[j]!;
            if (input.value === undefined || r.receivedAt - input.at > d.maxAge) {
              fresh = false;
              break;
            }
            d.scratch[j] = input.value;
            if (input.ts > ts) ts = input.ts;
          }
          if (!fresh) continue;
          const value = d.expr.evaluate(d.scratch);
          if (Number.isFinite(value)) derivedOut.push({ sensor: d.spec.sensor, ts, value, receivedAt: r.receivedAt });
        }
      }
      if (rules) step(rules, r.receivedAt, out);
    },
    wantsWindow: (sensor) => byWindow.has(sensor),
    window(sensor, values, now, out) {
      const rules = byWindow.get(sensor);
      if (!rules) return;
      catchUpAll(rules, now, out);
      windows.set(sensor, { ...values });
      for (const [name, x] of aggregates.get(sensor) ?? []) x.value = values[name];
      step(rules, now, out);
    },
    tick: (now, out) => step(all, now, out, true),
    raised: () => machines.filter((m) => m.state.raised).map((m) => ({ rule: m.spec.id, severity: m.spec.severity, since: m.state.since ?? 0, raisedAt: m.state.raisedAt ?? 0 })),
    retire(now, out) {
      for (const m of orphans) if (m.state.raised) out.push(clearEvent(m, now, {}, 'the rule was removed or changed in the config'));
      orphans.length = 0;
    },
    keys: () => machines.map((m) => m.state.key),
    save: () => ({
      latest: [...latest].filter(([, l]) => l.value !== undefined).map(([s, l]): [string, number, number, number] => [s, l.ts, l.value!, l.at]),
      windows: [...windows],
      rules: [...machines, ...orphans.filter((m) => m.state.raised)].map((m) => m.state),
    }),
  };
}
