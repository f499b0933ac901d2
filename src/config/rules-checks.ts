// What a rule or derived sensor may name, checked across the whole config (each problem with
// its path): ids unique; rules that exist; no cycle between rules or between derived sensors;
// expressions that compile; sensors some source can produce (or a derived sensor); window
// aggregates the sensor's pipeline computes; staleness where its pipeline judges it.
import { compileGlobs } from '../stream/glob.js';
import type { Condition } from '../stream/rules/rule-types.js';
import { compileExpression, ExpressionError } from '../stream/rules/expression.js';
import { idSpacesOverlap, mqttIdSpace } from './id-spaces.js';
import type { Config } from './schema.js';

type Path = PropertyKey[];
type Report = (path: Path, message: string) => void;

/** Sensor conditions in a condition tree, with their paths. */
function* sensorConditions(c: Condition, path: Path): Generator<[Extract<Condition, { sensor: string }>, Path]> {
  if ('sensor' in c) yield [c, path];
  else if ('all' in c) for (let i = 0; i < c.all.length; i++) yield* sensorConditions(c.all[i]!, [...path, 'all', i]);
  else if ('any' in c) for (let i = 0; i < c.any.length; i++) yield* sensorConditions(c.any[i]!, [...path, 'any', i]);
  else if ('not' in c) yield* sensorConditions(c.not, [...path, 'not']);
}

function* ruleRefs(c: Condition, path: Path): Generator<[string, Path]> {
  if ('rule' in c) yield [c.rule, [...path, 'rule']];
  else if ('all' in c) for (let i = 0; i < c.all.length; i++) yield* ruleRefs(c.all[i]!, [...path, 'all', i]);
  else if ('any' in c) for (let i = 0; i < c.any.length; i++) yield* ruleRefs(c.any[i]!, [...path, 'any', i]);
  else if ('not' in c) yield* ruleRefs(c.not, [...path, 'not']);
}

function conditionsOf(r: Config['rules'][number]): Array<[Condition, Path]> {
  return r.sequence ? r.sequence.map((c, i): [Condition, Path] => [c, ['sequence', i]]) : r.when ? [[r.when, ['when']]] : [];
}

/** Finds a cycle in `deps` (node -> nodes it reads): the cycle's nodes, or undefined. */
function findCycle(deps: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === 2) return undefined;
    if (state.get(n) === 1) return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 1);
    stack.push(n);
    for (const d of deps.get(n) ?? []) {
      if (!deps.has(d)) continue;
      const c = visit(d);
      if (c) return c;
    }
    stack.pop();
    state.set(n, 2);
    return undefined;
  };
  for (const n of deps.keys()) {
    const c = visit(n);
    if (c) return c;
  }
  return undefined;
}

export function checkRules(cfg: Config, report: Report): void {
  const derivedIds = new Map<string, number>();
  const exact = new Set<string>();
  const spaces: string[] = [];
  for (const s of cfg.sources) {
    if (s.type === 'gpio') exact.add(s.sensor);
    else if (s.type === 'simulated') for (const x of s.sensors) exact.add(x.id);
    else spaces.push(mqttIdSpace(s));
  }
  const pipelines = cfg.pipelines.map((p, i) => ({ p, i, matches: compileGlobs(p.match) }));
  const pipelineOf = (sensor: string) => pipelines.find((x) => x.matches(sensor));
  const literal = (id: string) => id.replace(/[+#]/g, '_');
  const known = (sensor: string) => derivedIds.has(sensor) || exact.has(sensor) || spaces.some((space) => idSpacesOverlap(space, literal(sensor)));
  const unknown = (sensor: string) =>
    `"${sensor}" is no sensor any source produces (${[...spaces.map((s) => `mqtt ids ${s}`), ...[...exact].slice(0, 5)].join(', ') || 'no sources'}) nor a derived sensor: check the spelling`;

  // Derived sensors: unique, not a source's own sensor, compiling, no cycle.
  const derivedInputs = new Map<string, string[]>();
  cfg.derived.forEach((d, i) => {
    if (derivedIds.has(d.sensor)) report(['derived', i, 'sensor'], `"${d.sensor}" is already derived[${derivedIds.get(d.sensor)}]`);
    else if (exact.has(d.sensor)) report(['derived', i, 'sensor'], `"${d.sensor}" is already produced by a source: a derived sensor needs an id of its own`);
    else derivedIds.set(d.sensor, i);
  });
  cfg.derived.forEach((d, i) => {
    try {
      const e = compileExpression(d.expr);
      derivedInputs.set(d.sensor, e.inputs);
      for (const input of e.inputs) if (!known(input)) report(['derived', i, 'expr'], `reads ${unknown(input)}`);
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      report(['derived', i, 'expr'], err.message);
    }
  });
  const derivedCycle = findCycle(derivedInputs);
  if (derivedCycle) report(['derived', derivedIds.get(derivedCycle[0]!) ?? 0, 'expr'], `derived sensors read each other in a cycle: ${derivedCycle.join(' -> ')}`);

  // Rules: unique ids, existing rule references, no cycle, known sensors.
  const ruleIds = new Map<string, number>();
  cfg.rules.forEach((r, i) => {
    if (ruleIds.has(r.id)) report(['rules', i, 'id'], `"${r.id}" is already rules[${ruleIds.get(r.id)}]`);
    else ruleIds.set(r.id, i);
  });
  const ruleDeps = new Map<string, string[]>();
  cfg.rules.forEach((r, i) => {
    const deps: string[] = [];
    for (const [c, at] of conditionsOf(r)) {
      for (const [ref, path] of ruleRefs(c, ['rules', i, ...at])) {
        if (!ruleIds.has(ref)) report(path, `"${ref}" is no rule of this config`);
        else deps.push(ref);
      }
      for (const [sc, path] of sensorConditions(c, ['rules', i, ...at])) {
        if (!known(sc.sensor)) {
          report([...path, 'sensor'], unknown(sc.sensor));
          continue;
        }
        const routed = pipelineOf(sc.sensor);
        if (sc.aggregate !== undefined) {
          if (!routed) report([...path, 'aggregate'], `"${sc.sensor}" goes through no pipeline, so it has no windows: add a pipeline whose match covers it`);
          else if (!routed.p.aggregates.includes(sc.aggregate)) report([...path, 'aggregate'], `pipelines[${routed.i}] (which "${sc.sensor}" goes through) does not compute ${sc.aggregate}: add it to its aggregates`);
        }
        if (sc.stale !== undefined) {
          if (!routed) report([...path, 'stale'], `"${sc.sensor}" goes through no pipeline, so its staleness is not judged: add a pipeline whose match covers it`);
          else if (routed.p.staleAfter === 'off') report([...path, 'stale'], `pipelines[${routed.i}] (which "${sc.sensor}" goes through) has staleAfter: off`);
        }
      }
    }
    ruleDeps.set(r.id, deps);
  });
  const ruleCycle = findCycle(ruleDeps);
  if (ruleCycle) report(['rules', ruleIds.get(ruleCycle[0]!) ?? 0], `rules read each other in a cycle: ${ruleCycle.join(' -> ')}`);
}
