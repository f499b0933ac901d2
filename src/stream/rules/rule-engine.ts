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
import { compileCondition, conditionUses, type ConditionContext, type ConditionUses } from './conditions.js';
import { compileExpression, type Expression } from './expression.js';
import { catchUp, clearEvent, freshRuleState, stepRule, type RuleMachine } from './rule-state.js';
import type { DerivedSpec, RuleEvent, RuleSpec, SavedRules } from './rule-types.js';

export interface RuleEngine {
  /** Whether readings of `sensor` matter to a rule or a derived sensor. */
  watches(sensor: string): boolean;
  /** A reading arrived: rules that read it step; derived readings it completes go to `derived`. */
  observe(r: Reading, out: Sink<RuleEvent>, derived: Reading[]): void;
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

interface Latest {
  ts: number;
  value: number;
  at: number;
}

interface Derived {
  spec: DerivedSpec;
  expr: Expression;
  maxAge: number;
  scratch: number[];
}

export function createRuleEngine(specs: readonly RuleSpec[], derivedSpecs: readonly DerivedSpec[], isStale: (sensor: string) => boolean, saved?: SavedRules): RuleEngine {
  const ordered = ruleOrder(specs);
  const savedByKey = new Map((saved?.rules ?? []).map((s) => [s.key, s]));
  const machines: RuleMachine[] = ordered.map((spec) => {
    const conds = (spec.sequence ?? [spec.when!]).map(compileCondition);
    const offsets: number[] = [];
    let n = 0;
    for (const c of conds) {
      offsets.push(n);
      n += c.leafCount;
    }
    const key = ruleKey(spec);
    const prior = savedByKey.get(key);
    savedByKey.delete(key);
    const state = prior ? structuredClone(prior) : freshRuleState(key, n, conds.length, spec);
    return { spec, conds, offsets, state };
  });
  // Saved rules no longer configured: kept until retire() clears them (the hand-over after a restart).
  const orphans: RuleMachine[] = [...savedByKey.values()].map((state) => ({ spec: JSON.parse(state.key) as RuleSpec, conds: [], offsets: [], state: structuredClone(state) }));
  const uses = machines.map((m) => usesOf(m.spec));
  const index = new Map(machines.map((m, i) => [m.spec.id, i]));

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
    return { spec, expr, maxAge: spec.maxAge ?? DEFAULT_DERIVED_MAX_AGE, scratch: new Array<number>(expr.inputs.length).fill(0) };
  });
  const derivedBySensor = new Map<string, Derived[]>();
  for (const d of derived) for (const input of d.expr.inputs) (derivedBySensor.get(input) ?? derivedBySensor.set(input, []).get(input)!).push(d);

  const latest = new Map<string, Latest>((saved?.latest ?? []).map(([s, ts, value, at]) => [s, { ts, value, at }]));
  const windows = new Map<string, Partial<Record<AggregateName, number>>>(saved?.windows ?? []);

  const ctx: ConditionContext = {
    value: (sensor) => latest.get(sensor)?.value,
    aggregate: (sensor, name) => windows.get(sensor)?.[name],
    stale: isStale,
    raised: (rule) => machines[index.get(rule)!]?.state.raised ?? false,
  };
  const valuesOf = (i: number) => () => {
    const vs: Record<string, number> = {};
    for (const v of uses[i]!.values) {
      const x = v.aggregate ? windows.get(v.sensor)?.[v.aggregate] : latest.get(v.sensor)?.value;
      if (x !== undefined) vs[v.key] = x;
    }
    return vs;
  };
  const evidence = machines.map((_, i) => valuesOf(i));
  const step = (list: readonly number[], now: number, out: Sink<RuleEvent>) => {
    let changed = false;
    for (const i of list) if (stepRule(machines[i]!, now, ctx, evidence[i]!, out)) changed = true;
    return changed;
  };
  const all = machines.map((_, i) => i);
  /** Moments due before `now` happen with the values that held then: before a new value lands. */
  const catchUpAll = (list: readonly number[] | undefined, now: number, out: Sink<RuleEvent>) => {
    if (list) for (const i of list) catchUp(machines[i]!, now, evidence[i]!, out);
  };

  return {
    watches: (sensor) => bySensor.has(sensor) || derivedBySensor.has(sensor),
    observe(r, out, derivedOut) {
      const was = latest.get(r.sensor);
      if (was && r.ts < was.ts) return; // an older reading arriving late: the latest stands
      const rules = bySensor.get(r.sensor);
      catchUpAll(rules, r.receivedAt, out);
      latest.set(r.sensor, { ts: r.ts, value: r.value, at: r.receivedAt });
      const ds = derivedBySensor.get(r.sensor);
      if (ds) {
        for (const d of ds) {
          let ts = -Infinity;
          let fresh = true;
          const inputs = d.expr.inputs;
          for (let j = 0; j < inputs.length; j++) {
            const l = latest.get(inputs[j]!);
            if (!l || r.receivedAt - l.at > d.maxAge) {
              fresh = false;
              break;
            }
            d.scratch[j] = l.value;
            if (l.ts > ts) ts = l.ts;
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
      step(rules, now, out);
    },
    tick: (now, out) => step(all, now, out),
    raised: () => machines.filter((m) => m.state.raised).map((m) => ({ rule: m.spec.id, severity: m.spec.severity, since: m.state.since ?? 0, raisedAt: m.state.raisedAt ?? 0 })),
    retire(now, out) {
      for (const m of orphans) if (m.state.raised) out.push(clearEvent(m, now, {}, 'the rule was removed or changed in the config'));
      orphans.length = 0;
    },
    keys: () => machines.map((m) => m.state.key),
    save: () => ({
      latest: [...latest].map(([s, l]): [string, number, number, number] => [s, l.ts, l.value, l.at]),
      windows: [...windows],
      rules: [...machines, ...orphans.filter((m) => m.state.raised)].map((m) => m.state),
    }),
  };
}
