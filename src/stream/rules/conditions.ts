// A rule's condition tree compiled into one function. Sensor conditions with `hysteresis` keep
// a flag each (true while the condition holds): "above 8, hysteresis 0.5" becomes true above 8
// and false again only at or below 7.5. Every leaf is evaluated at every evaluation (no
// short-circuit), so each flag follows its sensor whatever the rest of the tree says.
import type { AggregateName } from '../aggregate-names.js';
import type { Condition, SensorCondition } from './rule-types.js';

/** A place a condition reads a number from, bound once at compile time (no lookup per reading). */
export interface Slot {
  /** undefined before the first value. */
  value: number | undefined;
}

export interface ConditionContext {
  /** The sensor's latest value (by event time). */
  value(sensor: string): Slot;
  /** An aggregate of its latest complete window. */
  aggregate(sensor: string, name: AggregateName): Slot;
  stale(sensor: string): boolean;
  /** Whether the rule is raised now (a getter over its state). */
  raised(rule: string): () => boolean;
}

export interface CompiledCondition {
  /** `leaves`: the rule's flags, updated in place. */
  evaluate(leaves: boolean[]): boolean;
  leafCount: number;
}

/** What a condition reads: evidence keys ("sensor", or "mean(sensor)" for an aggregate), sensors and rules. */
export interface ConditionUses {
  values: Array<{ key: string; sensor: string; aggregate?: AggregateName }>;
  sensors: Set<string>;
  rules: Set<string>;
}

export function isSensorCondition(c: Condition): c is SensorCondition {
  return 'sensor' in c;
}

export function conditionUses(c: Condition, into: ConditionUses = { values: [], sensors: new Set(), rules: new Set() }): ConditionUses {
  if (isSensorCondition(c)) {
    into.sensors.add(c.sensor);
    if (c.stale === undefined || c.above !== undefined || c.below !== undefined || c.eq !== undefined || c.between !== undefined) {
      const key = c.aggregate ? `${c.aggregate}(${c.sensor})` : c.sensor;
      if (!into.values.some((v) => v.key === key)) into.values.push({ key, sensor: c.sensor, ...(c.aggregate && { aggregate: c.aggregate }) });
    }
  } else if ('rule' in c) into.rules.add(c.rule);
  else if ('all' in c) for (const x of c.all) conditionUses(x, into);
  else if ('any' in c) for (const x of c.any) conditionUses(x, into);
  else conditionUses(c.not, into);
  return into;
}

type Eval = (leaves: boolean[]) => boolean;

function compileSensor(c: SensorCondition, leaf: number, ctx: ConditionContext): Eval {
  const h = c.hysteresis ?? 0;
  const slot = c.aggregate ? ctx.aggregate(c.sensor, c.aggregate) : ctx.value(c.sensor);
  const tests: Array<(v: number, on: boolean) => boolean> = [];
  if (c.above !== undefined) {
    const x = c.above;
    tests.push((v, on) => (on ? v > x - h : v > x));
  }
  if (c.below !== undefined) {
    const x = c.below;
    tests.push((v, on) => (on ? v < x + h : v < x));
  }
  if (c.between !== undefined) {
    const [lo, hi] = c.between;
    tests.push((v, on) => (on ? v >= lo - h && v <= hi + h : v >= lo && v <= hi));
  }
  if (c.eq !== undefined) {
    const x = c.eq;
    tests.push((v) => v === x);
  }
  const stale = c.stale;
  const sensor = c.sensor;
  if (stale === undefined && tests.length === 1) {
    // The common case, without the loop.
    const test = tests[0]!;
    return (leaves) => {
      const v = slot.value;
      const ok = v !== undefined && test(v, leaves[leaf]!);
      leaves[leaf] = ok;
      return ok;
    };
  }
  // Staleness is judged on a sensor that has reported: one never heard is neither stale nor fresh.
  const heard = ctx.value(sensor);
  return (leaves) => {
    let ok = stale === undefined || (heard.value !== undefined && ctx.stale(sensor) === stale);
    if (ok && tests.length > 0) {
      const v = slot.value;
      const on = leaves[leaf]!;
      ok = v !== undefined && tests.every((t) => t(v, on));
    }
    leaves[leaf] = ok;
    return ok;
  };
}

/** Compiles `root` with its reads bound through `ctx`; its flags are leaves[base...]. */
export function compileCondition(root: Condition, ctx: ConditionContext, base = 0): CompiledCondition {
  let leafCount = 0;
  const build = (c: Condition): Eval => {
    if (isSensorCondition(c)) return compileSensor(c, base + leafCount++, ctx);
    if ('rule' in c) {
      const raised = ctx.raised(c.rule);
      return () => raised();
    }
    if ('all' in c) {
      const xs = c.all.map(build);
      return (leaves) => {
        let ok = true;
        for (let i = 0; i < xs.length; i++) if (!xs[i]!(leaves)) ok = false;
        return ok;
      };
    }
    if ('any' in c) {
      const xs = c.any.map(build);
      return (leaves) => {
        let ok = false;
        for (let i = 0; i < xs.length; i++) if (xs[i]!(leaves)) ok = true;
        return ok;
      };
    }
    const x = build(c.not);
    return (leaves) => !x(leaves);
  };
  const evaluate = build(root);
  return { evaluate, leafCount };
}
