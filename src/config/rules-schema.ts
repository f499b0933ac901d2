// The config of rules (`rules:`) and derived sensors (`derived:`), docs/rules.md. The shapes
// the stream takes are src/stream/rules/rule-types.ts; these schemas' output is assignable to
// them (a compile-time check in schema.ts). Cross-checks (unknown sensors and rules, cycles,
// expressions that do not compile) are in rules-checks.ts.
import { z } from 'zod';
import { duration, sensorId } from './fields.js';
import { AGGREGATES } from '../stream/aggregate-names.js';
import { RULE_SEVERITIES, type Condition } from '../stream/rules/rule-types.js';

/** A rule's id is a topic level (<prefix>/event/<id>); the event types' own levels are reserved. */
export const ruleId = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, "_", "." or "-" (it is a topic level: <prefix>/event/<id>)')
  .refine((id) => id !== 'stale' && id !== 'availability', { message: 'is reserved (event/stale/... and event/availability/... carry those events)' });

const LIMITS = ['above', 'below', 'eq', 'between'] as const;

const sensorCondition = z
  .strictObject({
    sensor: sensorId.describe('a sensor id (a derived sensor\'s too); no globs'),
    aggregate: z.enum(AGGREGATES).optional().describe('test this aggregate of the sensor\'s latest complete window instead of its latest value'),
    above: z.number().optional(),
    below: z.number().optional(),
    eq: z.number().optional(),
    between: z.tuple([z.number(), z.number()]).optional().describe('[low, high], both included'),
    hysteresis: z.number().min(0).optional().describe('once true, the value must come back this far past the limit before the condition is false'),
    stale: z.boolean().optional().describe('true: the sensor is stale now (its pipeline\'s staleAfter); false: it is not'),
  })
  .refine((c) => LIMITS.some((k) => c[k] !== undefined) || c.stale !== undefined, { message: 'needs a test: above, below, eq, between or stale' })
  .refine((c) => c.between === undefined || c.between[0] <= c.between[1], { message: 'between: the low limit must not exceed the high one', path: ['between'] })
  .refine((c) => c.hysteresis === undefined || c.above !== undefined || c.below !== undefined || c.between !== undefined, { message: 'hysteresis needs above, below or between', path: ['hysteresis'] })
  .refine((c) => c.aggregate === undefined || LIMITS.some((k) => c[k] !== undefined), { message: 'aggregate needs a limit (above, below, eq or between)', path: ['aggregate'] });

export const condition: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    sensorCondition,
    z.strictObject({ rule: ruleId.describe('true while that rule is raised') }),
    z.strictObject({ all: z.array(condition).min(1).describe('true when every one is') }),
    z.strictObject({ any: z.array(condition).min(1).describe('true when at least one is') }),
    z.strictObject({ not: condition }),
  ]),
);

export const rule = z
  .strictObject({
    id: ruleId,
    when: condition.optional().describe('the condition (with for, or count)'),
    for: duration('5m').optional().describe('the condition must hold this long, continuously, before the rule is raised'),
    sequence: z.array(condition).min(2).max(16).optional().describe('conditions that must become true in this order (A then B), all within `within`'),
    count: z.number().int().min(1).max(10_000).optional().describe('times `when` must become true within `within`'),
    within: duration('30s').optional().describe('the span of a sequence or a count'),
    clearAfter: duration('1m').optional().describe('the rule clears only once false this long (no flapping)'),
    cooldown: duration('10m').optional().describe('after a raise, no new raise for this long (a rule true again then raises when it ends)'),
    severity: z.enum(RULE_SEVERITIES).default('warning'),
    message: z.string().max(500).optional().describe('said in its events'),
  })
  .superRefine((r, ctx) => {
    const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if ((r.when === undefined) === (r.sequence === undefined)) problem(r.when ? 'sequence' : 'when', 'a rule needs either when (a condition) or sequence (steps), not both');
    if (r.sequence && r.within === undefined) problem('within', 'a sequence needs within (the span from its first step to its last)');
    if (r.sequence && (r.for !== undefined || r.count !== undefined)) problem(r.for !== undefined ? 'for' : 'count', 'is not for a sequence');
    if (r.count !== undefined && r.within === undefined) problem('within', 'count needs within (the span the occurrences are counted in)');
    if (r.count !== undefined && r.for !== undefined) problem('for', 'for and count do not go together');
    if (r.within !== undefined && r.sequence === undefined && r.count === undefined) problem('within', 'is for a sequence or a count');
  });

export const derived = z.strictObject({
  sensor: sensorId.describe('the derived sensor\'s id; its readings go through the pipelines like any'),
  expr: z.string().min(1).describe('e.g. "line1/voltage * line1/current", "dewpoint(gh/temp, gh/humidity)"; sensors by id, division with spaces ("a / b"), ids with spaces in backquotes; functions in docs/rules.md'),
  maxAge: duration('5m').default(300_000).describe('an input whose latest reading arrived longer ago than this stops the computation'),
});

export type RuleConfig = z.output<typeof rule>;
export type DerivedConfig = z.output<typeof derived>;
