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
//
// Times are exact, not those of the evaluation that noticed: a `for: 5m` hold raises at its
// start + 5 minutes, a cooldown ends and a clearAfter runs out at their moments, whenever the
// next evaluation comes (the next tick: within a second). Between two evaluations nothing a
// rule reads changes, so each step first catches up to its time with what held since the
// last one, then takes what holds now. Events therefore do not depend on when ticks fall,
// which makes a backtest (`outpost rules test`) give the live run's events.
import type { Sink } from '../staleness.js';
import type { CompiledCondition } from './conditions.js';
import type { RuleEvent, RuleSpec, SavedRule } from './rule-types.js';

export interface RuleMachine {
  spec: RuleSpec;
  /** The conditions: [when], or the sequence's steps (each with its own range of state.leaves). */
  conds: CompiledCondition[];
  state: SavedRule;
  /** Scratch: the leaves before a step, the steps' truths (no allocation per step). */
  before: boolean[];
  truths: boolean[];
}

export function freshRuleState(key: string, leafCount: number, conds: number, spec: RuleSpec): SavedRule {
  return {
    key,
    leaves: new Array<boolean>(leafCount).fill(false),
    prev: new Array<boolean>(conds).fill(false),
    condSince: null,
    metAt: null,
    times: spec.sequence ? new Array<number | null>(spec.sequence.length).fill(null) : [],
    fired: false,
    raised: false,
    since: null,
    raisedAt: null,
    falseSince: null,
    lastRaisedAt: null,
  };
}

function evaluate(m: RuleMachine, i: number): boolean {
  return m.conds[i]!.evaluate(m.state.leaves);
}

interface Step {
  m: RuleMachine;
  values: () => Record<string, number>;
  out: Sink<RuleEvent>;
  changed: boolean;
}

/** The step under way (steps do not nest; one object, no allocation per step). */
const current: Step = { m: undefined as unknown as RuleMachine, values: () => ({}), out: [], changed: false };
function begin(m: RuleMachine, values: () => Record<string, number>, out: Sink<RuleEvent>, changed: boolean): Step {
  current.m = m;
  current.values = values;
  current.out = out;
  current.changed = changed;
  return current;
}

/** When a rule met from `metAt` may raise: not before the cooldown since its last raise ends. */
const gate = (s: SavedRule, cooldown: number, metAt: number) => (s.lastRaisedAt === null ? metAt : Math.max(metAt, s.lastRaisedAt + cooldown));

function raise(st: Step, at: number): void {
  const { m, out } = st;
  const s = m.state;
  const spec = m.spec;
  s.raised = true;
  s.raisedAt = at;
  s.lastRaisedAt = at;
  s.since = (spec.count !== undefined ? (s.times[0] ?? null) : s.condSince) ?? at;
  s.severity = spec.severity;
  s.falseSince = null;
  st.changed = true;
  out.push({ kind: 'event', type: 'rule', sensor: spec.id, ts: at, state: 'raised', severity: spec.severity, since: s.since, values: st.values(), ...(spec.message !== undefined && { message: spec.message }) });
}

function unmet(st: Step, at: number): void {
  const s = st.m.state;
  s.metAt = null;
  if (s.raised && s.falseSince === null) s.falseSince = at;
  st.changed = true;
}

/**
 * Brings the rule up to `now` with what held since its last evaluation: raises and clears due
 * in between happen at their own moments, with the values that held then (call it before the
 * values change). Idempotent at one `now`. Returns whether its state changed.
 */
export function catchUp(m: RuleMachine, now: number, values: () => Record<string, number>, out: Sink<RuleEvent>): boolean {
  const s = m.state;
  const spec = m.spec;
  // Nothing can be due: no pending raise, no pending clear, no occurrence to expire (most calls).
  if ((s.metAt === null || s.raised) && s.falseSince === null && (spec.count === undefined || s.times.length === 0 || now - s.times[0]! <= (spec.within ?? Infinity))) return false;
  const st = begin(m, values, out, false);
  const cooldown = spec.cooldown ?? 0;
  if (spec.count !== undefined) {
    const within = spec.within ?? Infinity;
    while (s.times.length > 0 && now - s.times[0]! > within) {
      const expiry = s.times[0]! + within;
      if (s.metAt !== null && !s.raised && gate(s, cooldown, s.metAt) <= expiry) raise(st, gate(s, cooldown, s.metAt));
      s.times.shift();
      st.changed = true;
      if (s.metAt !== null && s.times.length < spec.count) unmet(st, expiry);
    }
  }
  if (s.metAt !== null && !s.raised && gate(s, cooldown, s.metAt) <= now) raise(st, gate(s, cooldown, s.metAt));
  if (s.raised && s.falseSince !== null && s.falseSince + (spec.clearAfter ?? 0) <= now) {
    out.push(clearEvent(m, s.falseSince + (spec.clearAfter ?? 0), values()));
    st.changed = true;
  }
  return st.changed;
}

/**
 * Steps the rule at `now`: catchUp, then what holds now; pushes raised/cleared events. Returns
 * whether its saved state changed (a tick that changes a rule is journaled: replay must step
 * it at the same moment).
 */
export function stepRule(m: RuleMachine, now: number, values: () => Record<string, number>, out: Sink<RuleEvent>, track = true): boolean {
  const s = m.state;
  const spec = m.spec;
  const cooldown = spec.cooldown ?? 0;
  const clearAfter = spec.clearAfter ?? 0;
  const st = begin(m, values, out, catchUp(m, now, values, out));

  // 2. What holds now.
  // Whether the leaves changed matters only to a tick (journaled when it changes something).
  const before = m.before;
  if (track) for (let j = 0; j < s.leaves.length; j++) before[j] = s.leaves[j]!;
  if (spec.sequence) {
    const k = m.conds.length;
    const within = spec.within ?? Infinity;
    for (let i = 0; i < k; i++) {
      const t = s.times[i];
      if (t !== null && t !== undefined && now - t > within) {
        s.times[i] = null;
        st.changed = true;
      }
    }
    const truths = m.truths;
    for (let i = 0; i < k; i++) truths[i] = evaluate(m, i);
    // Last step first: a step that becomes true at the same moment as the one before it does
    // not complete it.
    for (let i = k - 1; i >= 0; i--) {
      if (!truths[i] || s.prev[i]) continue;
      if (i === 0) s.times[0] = now;
      else if (s.times[i - 1] !== null) s.times[i] = s.times[i - 1]!;
      else continue;
      st.changed = true;
    }
    for (let i = 0; i < k; i++) {
      if (s.prev[i] !== truths[i]) {
        s.prev[i] = truths[i]!;
        st.changed = true;
      }
    }
    if (s.times[k - 1] !== null) {
      s.condSince = s.times[k - 1]!;
      s.fired = true;
      s.metAt = now;
      s.times.fill(null);
      st.changed = true;
    }
    if (s.fired && !truths[k - 1]) {
      s.fired = false;
      unmet(st, now);
    }
  } else if (spec.count !== undefined) {
    const truth = evaluate(m, 0);
    if (truth && !s.prev[0]) {
      s.times.push(now);
      if (s.times.length > spec.count) s.times.shift();
      if (s.times.length >= spec.count && s.metAt === null) s.metAt = now;
      st.changed = true;
    }
    if (s.prev[0] !== truth) {
      s.prev[0] = truth;
      st.changed = true;
    }
  } else {
    const truth = evaluate(m, 0);
    if (truth && s.condSince === null) {
      s.condSince = now;
      // A raised rule (false for less than clearAfter) is true again at once: `for` only delays a raise.
      s.metAt = s.raised ? now : now + (spec.for ?? 0);
      st.changed = true;
    } else if (!truth && s.condSince !== null) {
      s.condSince = null;
      unmet(st, now);
    }
  }
  if (track) for (let j = 0; j < s.leaves.length; j++) if (before[j] !== s.leaves[j]) st.changed = true;

  if (s.metAt !== null && s.metAt <= now) {
    if (s.falseSince !== null) {
      s.falseSince = null;
      st.changed = true;
    }
    if (!s.raised && gate(s, cooldown, s.metAt) <= now) raise(st, gate(s, cooldown, s.metAt));
  } else if (s.raised && s.falseSince !== null && s.falseSince + clearAfter <= now) {
    out.push(clearEvent(m, s.falseSince + clearAfter, values()));
    st.changed = true;
  }
  return st.changed;
}

/** Moves every time in a rule's state by `deltaMs` (the wall clock jumped). */
export function shiftRuleState(s: SavedRule, deltaMs: number): void {
  const by = (t: number | null) => (t === null ? null : t + deltaMs);
  s.condSince = by(s.condSince);
  s.metAt = by(s.metAt);
  s.since = by(s.since);
  s.raisedAt = by(s.raisedAt);
  s.falseSince = by(s.falseSince);
  s.lastRaisedAt = by(s.lastRaisedAt);
  s.times = s.times.map(by);
}

/** Clears a raised rule (its condition ended, or it left the config); resets its raise. */
export function clearEvent(m: RuleMachine, at: number, values: Record<string, number>, message?: string): RuleEvent {
  const s = m.state;
  const e: RuleEvent = { kind: 'event', type: 'rule', sensor: m.spec.id, ts: at, state: 'cleared', severity: m.spec.severity, since: s.since ?? at, raisedAt: s.raisedAt ?? at, values, ...((message ?? m.spec.message) !== undefined && { message: message ?? m.spec.message }) };
  s.raised = false;
  s.raisedAt = null;
  s.since = null;
  s.falseSince = null;
  return e;
}
