// Derived sensors (`derived:`): each computed from the latest readings of its inputs by an
// expression (expression.ts). A reading changes the derived sensors that read it, directly or
// through other derived sensors; each of them is computed once per reading, in dependency
// order (an input before what reads it), so none ever mixes a new input with an old one and
// the work per reading is bounded by the number of derived sensors.
import type { Reading } from '../reading.js';
import { MAX_ABS_VALUE } from '../admission.js';
import type { Slot } from './conditions.js';
import { compileExpression, type Expression } from './expression.js';
import type { DerivedSpec } from './rule-types.js';

export const DEFAULT_DERIVED_MAX_AGE = 300_000;

/** A sensor's latest reading (value undefined before the first): conditions hold a reference. */
export interface Latest extends Slot {
  ts: number;
  at: number;
}

export interface DerivedSensor {
  spec: DerivedSpec;
  expr: Expression;
  maxAge: number;
  inputs: Latest[];
  /** Its own latest reading (what rules and other derived sensors read). */
  latest: Latest;
  scratch: number[];
}

/** Derived sensors in dependency order; throws on a cycle (check-config refuses one first). */
function order(specs: readonly DerivedSpec[], exprs: Map<string, Expression>): DerivedSpec[] {
  const byId = new Map(specs.map((d) => [d.sensor, d]));
  const state = new Map<string, 1 | 2>();
  const out: DerivedSpec[] = [];
  const visit = (d: DerivedSpec) => {
    if (state.get(d.sensor) === 2) return;
    if (state.get(d.sensor) === 1) throw new Error(`derived sensors read each other in a cycle at ${d.sensor}`);
    state.set(d.sensor, 1);
    for (const input of exprs.get(d.sensor)!.inputs) {
      const dep = byId.get(input);
      if (dep) visit(dep);
    }
    state.set(d.sensor, 2);
    out.push(d);
  };
  for (const d of specs) visit(d);
  return out;
}

export interface DerivedSet {
  /** The derived sensors a reading of `sensor` changes, in dependency order (undefined: none). */
  affected(sensor: string): readonly DerivedSensor[] | undefined;
  /** Every sensor a derived sensor reads, and every derived sensor. */
  sensors(): string[];
}

export function createDerivedSet(specs: readonly DerivedSpec[], slot: (sensor: string) => Latest): DerivedSet {
  const exprs = new Map(specs.map((d) => [d.sensor, compileExpression(d.expr)]));
  const all: DerivedSensor[] = order(specs, exprs).map((spec) => {
    const expr = exprs.get(spec.sensor)!;
    return { spec, expr, maxAge: spec.maxAge ?? DEFAULT_DERIVED_MAX_AGE, inputs: expr.inputs.map(slot), latest: slot(spec.sensor), scratch: new Array<number>(expr.inputs.length).fill(0) };
  });
  // For each input: the derived sensors it changes, directly or through others. `all` is in
  // dependency order, so one pass collects them, in that order.
  const affected = new Map<string, DerivedSensor[]>();
  for (const sensor of new Set(all.flatMap((d) => d.expr.inputs))) {
    const changed = new Set([sensor]);
    const list: DerivedSensor[] = [];
    for (const d of all) {
      if (!d.expr.inputs.some((i) => changed.has(i))) continue;
      list.push(d);
      changed.add(d.spec.sensor);
    }
    affected.set(sensor, list);
  }
  return {
    affected: (sensor) => affected.get(sensor),
    sensors: () => [...new Set([...affected.keys(), ...all.map((d) => d.spec.sensor)])],
  };
}

/**
 * Computes `d` at arrival `now` from its inputs' latest readings: a reading (also made its
 * latest) when every input arrived within maxAge and the value is a number a sensor could
 * send (finite, within ±1e100, as admission requires of any reading); else undefined.
 */
export function computeDerived(d: DerivedSensor, now: number): Reading | undefined {
  let ts = -Infinity;
  for (let j = 0; j < d.inputs.length; j++) {
    const input = d.inputs[j]!;
    if (input.value === undefined || now - input.at > d.maxAge) return undefined;
    d.scratch[j] = input.value;
    if (input.ts > ts) ts = input.ts;
  }
  const value = d.expr.evaluate(d.scratch);
  if (!Number.isFinite(value) || Math.abs(value) > MAX_ABS_VALUE) return undefined;
  if (ts < d.latest.ts) return undefined; // its inputs went back in time (a clock step): not newer than its latest
  d.latest.ts = ts;
  d.latest.value = value;
  d.latest.at = now;
  return { sensor: d.spec.sensor, ts, value, receivedAt: now };
}
