// Rules and derived sensors as the stream stage takes them (the config's `rules:` and
// `derived:`, validated by src/config/rules-schema.ts, whose output is assignable to these).
// Durations are milliseconds; times are the agent's wall clock (arrivals and ticks), because a
// rule judges the present: "above 8 for 5 minutes" means five minutes of this device's time.
import type { AggregateName } from '../aggregate-names.js';

export const RULE_SEVERITIES = ['info', 'warning', 'major', 'critical'] as const;
export type RuleSeverity = (typeof RULE_SEVERITIES)[number];

/** A test on one sensor: its latest value, its latest complete window's aggregate, or its staleness. */
export interface SensorCondition {
  sensor: string;
  /** Test this aggregate of the sensor's latest complete window instead of its latest value. */
  aggregate?: AggregateName;
  above?: number;
  below?: number;
  eq?: number;
  between?: [number, number];
  /** How far back across the limit the value must come before the condition is false again. */
  hysteresis?: number;
  /** true: the sensor is stale now (its pipeline's staleness); false: it is not. */
  stale?: boolean;
}

export type Condition = SensorCondition | { rule: string } | { all: Condition[] } | { any: Condition[] } | { not: Condition };

export interface RuleSpec {
  /** Its events go on <prefix>/event/<id>. */
  id: string;
  /** The condition (plain, `for`, `count`). */
  when?: Condition;
  /** ms the condition must hold continuously before the rule is true. */
  for?: number;
  /** Steps that must become true in this order, all within `within`. */
  sequence?: Condition[];
  /** Times `when` must become true within `within`. */
  count?: number;
  /** ms: the span of a sequence or a count. */
  within?: number;
  /** ms the rule must be false before it clears (no flapping). */
  clearAfter?: number;
  /** ms after a raise before the rule may raise again. */
  cooldown?: number;
  severity: RuleSeverity;
  message?: string;
}

export interface DerivedSpec {
  /** The new sensor's id. */
  sensor: string;
  /** e.g. "line1/voltage * line1/current", "dewpoint(gh/temp, gh/humidity)". */
  expr: string;
  /** ms: an input whose latest reading arrived longer ago than this stops the computation. */
  maxAge?: number;
}

export interface RuleEvent {
  kind: 'event';
  type: 'rule';
  /** The rule's id (named `sensor` like every event's subject). */
  sensor: string;
  ts: number;
  state: 'raised' | 'cleared';
  severity: RuleSeverity;
  /** When the rule's condition began to hold (a `for` rule: the start of the hold). */
  since: number;
  /** When it was raised (cleared events). */
  raisedAt?: number;
  /** The values it used at this moment: sensor -> latest value, "mean(sensor)" -> an aggregate. */
  values: Record<string, number>;
  message?: string;
}

/** A rule's state; `leaves` are its sensor conditions' hysteresis flags, in condition order. */
export interface SavedRule {
  key: string;
  leaves: boolean[];
  /** Previous truth of `when` or of each sequence step (edges). */
  prev: boolean[];
  condSince: number | null;
  /** The moment the rule is (or will be, for a `for` hold under way) true; null while it is not. */
  metAt: number | null;
  /** Count rules: times the condition became true, within `within`. Sequences: each step's chain start. */
  times: Array<number | null>;
  fired: boolean;
  raised: boolean;
  since: number | null;
  raisedAt: number | null;
  falseSince: number | null;
  lastRaisedAt: number | null;
  /** The severity it was raised with (for a clear after the rule left the config). */
  severity?: RuleSeverity;
}

export interface SavedRules {
  /** Latest reading of every sensor a rule or derived sensor names: sensor, event time, value, arrival. */
  latest: Array<[string, number, number, number]>;
  /** Latest complete window's aggregates of the sensors rules test by aggregate. */
  windows: Array<[string, Partial<Record<AggregateName, number>>]>;
  rules: SavedRule[];
}
