// One rule's state machine, stepped at every evaluation (a reading of a sensor it names, a
// window of one, a tick) with the time of that evaluation:
// - plain (`when`): true while the condition holds; with `for`, once it has held that long
//   (continuously; a raised rule stays raised while the condition holds, `for` only delays the
//   raise);
// - `count` + `within`: the condition became true `count` times within `within` (true until the
//   oldest of them falls out of the span);
// - `sequence` + `within`: each step became true after the one before, the last within
//   `within` of the first (moments, not spans: a step need not still hold when the next comes;
//   two steps becoming true at the same evaluation are not "in order"); true from then while
//   the last step holds.
// A true rule raises (unless it raised less than `cooldown` ago: then it raises when the
// cooldown ends, if still true); a raised rule clears once it has been false for `clearAfter`.
import type { Sink } from '../staleness.js';
import type { CompiledCondition, ConditionContext } from './conditions.js';
import type { RuleEvent, RuleSpec, SavedRule } from './rule-types.js';

export interface RuleMachine {
  spec: RuleSpec;
  /** The conditions: [when], or the sequence's steps. */
  conds: CompiledCondition[];
  /** Where each condition's leaves start in state.leaves. */
  offsets: number[];
  state: SavedRule;
}

export function freshRuleState(key: string, leafCount: number, conds: number, spec: RuleSpec): SavedRule {
  return {
    key,
    leaves: new Array<boolean>(leafCount).fill(false),
    prev: new Array<boolean>(conds).fill(false),
    condSince: null,
    times: spec.sequence ? new Array<number | null>(spec.sequence.length).fill(null) : [],
    fired: false,
    raised: false,
    since: null,
    raisedAt: null,
    falseSince: null,
    lastRaisedAt: null,
  };
}

const scratch: boolean[] = [];

/** Evaluates a condition on its slice of the leaves. */
function evaluate(m: RuleMachine, i: number, ctx: ConditionContext): boolean {
  const c = m.conds[i]!;
  const off = m.offsets[i]!;
  const leaves = m.state.leaves;
  if (off === 0 && c.leafCount === leaves.length) return c.evaluate(ctx, leaves);
  scratch.length = c.leafCount;
  for (let j = 0; j < c.leafCount; j++) scratch[j] = leaves[off + j]!;
  const ok = c.evaluate(ctx, scratch);
  for (let j = 0; j < c.leafCount; j++) leaves[off + j] = scratch[j]!;
  return ok;
}

const before: boolean[] = [];

/**
 * Steps the rule at `now`; pushes raised/cleared events. Returns whether its saved state
 * changed (a tick that changes a rule is journaled: replay must step it at the same moment).
 */
export function stepRule(m: RuleMachine, now: number, ctx: ConditionContext, values: () => Record<string, number>, out: Sink<RuleEvent>): boolean {
  const s = m.state;
  const spec = m.spec;
  let changed = false;
  before.length = s.leaves.length;
  for (let j = 0; j < s.leaves.length; j++) before[j] = s.leaves[j]!;
  let met: boolean;
  let since: number | null;
  if (spec.sequence) {
    const k = m.conds.length;
    const within = spec.within ?? Infinity;
    for (let i = 0; i < k; i++) {
      const t = s.times[i];
      if (t !== null && t !== undefined && now - t > within) {
        s.times[i] = null;
        changed = true;
      }
    }
    const truths = m.conds.map((_, i) => evaluate(m, i, ctx));
    // Last step first: a step that becomes true at the same moment as the one before it does
    // not complete it.
    for (let i = k - 1; i >= 0; i--) {
      if (!truths[i] || s.prev[i]) continue;
      if (i === 0) s.times[0] = now;
      else if (s.times[i - 1] !== null) s.times[i] = s.times[i - 1]!;
      else continue;
      changed = true;
    }
    for (let i = 0; i < k; i++) {
      if (s.prev[i] !== truths[i]) {
        s.prev[i] = truths[i]!;
        changed = true;
      }
    }
    if (s.times[k - 1] !== null) {
      s.condSince = s.times[k - 1]!;
      s.fired = true;
      s.times.fill(null);
      changed = true;
    }
    if (s.fired && !truths[k - 1]) {
      s.fired = false;
      changed = true;
    }
    met = s.fired;
    since = s.condSince;
  } else if (spec.count !== undefined) {
    const truth = evaluate(m, 0, ctx);
    if (truth && !s.prev[0]) {
      s.times.push(now);
      if (s.times.length > spec.count) s.times.shift();
      changed = true;
    }
    if (s.prev[0] !== truth) {
      s.prev[0] = truth;
      changed = true;
    }
    const within = spec.within ?? Infinity;
    while (s.times.length > 0 && now - s.times[0]! > within) {
      s.times.shift();
      changed = true;
    }
    met = s.times.length >= spec.count;
    since = met ? s.times[0]! : null;
  } else {
    const truth = evaluate(m, 0, ctx);
    const condSince = truth ? (s.condSince ?? now) : null;
    if (condSince !== s.condSince) {
      s.condSince = condSince;
      changed = true;
    }
    met = truth && (s.raised || now - condSince! >= (spec.for ?? 0));
    since = condSince;
  }
  for (let j = 0; j < s.leaves.length; j++) if (before[j] !== s.leaves[j]) changed = true;

  if (met) {
    if (s.falseSince !== null) {
      s.falseSince = null;
      changed = true;
    }
    if (!s.raised && !(s.lastRaisedAt !== null && now - s.lastRaisedAt < (spec.cooldown ?? 0))) {
      s.raised = true;
      s.raisedAt = now;
      s.lastRaisedAt = now;
      s.since = since ?? now;
      changed = true;
      out.push({ kind: 'event', type: 'rule', sensor: spec.id, ts: now, state: 'raised', severity: spec.severity, since: s.since, values: values(), ...(spec.message !== undefined && { message: spec.message }) });
    }
  } else if (s.raised) {
    if (s.falseSince === null) {
      s.falseSince = now;
      changed = true;
    }
    if (now - s.falseSince >= (spec.clearAfter ?? 0)) {
      changed = true;
      out.push(clearEvent(m, now, values()));
    }
  }
  return changed;
}

/** Clears a raised rule (its condition ended, or it left the config); resets its raise. */
export function clearEvent(m: RuleMachine, now: number, values: Record<string, number>, message?: string): RuleEvent {
  const s = m.state;
  const e: RuleEvent = { kind: 'event', type: 'rule', sensor: m.spec.id, ts: now, state: 'cleared', severity: m.spec.severity, since: s.since ?? now, raisedAt: s.raisedAt ?? now, values, ...((message ?? m.spec.message) !== undefined && { message: message ?? m.spec.message }) };
  s.raised = false;
  s.raisedAt = null;
  s.since = null;
  s.falseSince = null;
  return e;
}
