// Rules and derived sensors in the config: what check-config refuses (each with its path), the
// expression language (functions, units, what it cannot reach), and check-config as a real
// process refusing `process.exit()`.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { compileExpression, ExpressionError } from '../../src/stream/rules/expression.js';
import { tempDir } from '../helpers/agent-config.js';
import { runCli } from '../helpers/cli.js';

const BASE = `device: { id: t }
sources:
  - { type: simulated, sensors: [ { id: fridge/temp }, { id: fridge/door }, { id: line1/voltage }, { id: line1/current } ] }
  - { type: mqtt, topic: "pump/#", prefix: pump, format: json } # ids pump/<topic rest>
pipelines:
  - { match: ["fridge/**"], window: { type: tumbling, size: 10s }, aggregates: [count, mean] }
  - { match: ["**"], staleAfter: off, window: { type: tumbling, size: 10s } }
uplink: { url: "mqtt://127.0.0.1:1" }
`;

function problems(extra: string): string[] {
  const r = parseConfigText(BASE + extra);
  return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
}

describe('rules in the config', () => {
  it('accepts the DESIGN.md examples', () => {
    expect(
      problems(`rules:
  - id: fridge-door-warm
    when: { all: [ { sensor: fridge/door, eq: 1 }, { sensor: fridge/temp, above: 8, hysteresis: 0.5 } ] }
    for: 5m
    severity: major
  - id: pump-dry-run
    sequence: [ { sensor: pump/current, above: 2 }, { sensor: pump/flow, below: 0.1 } ]
    within: 30s
derived:
  - { sensor: line1/power, expr: "line1/voltage * line1/current" }
`),
    ).toEqual([]);
  });

  it('refuses unknown sensors and rules, cycles, expressions that do not compile, aggregates and staleness a pipeline does not have, each with its path', () => {
    const got = problems(`rules:
  - { id: a, when: { all: [ { sensor: fridge/temp, above: 8 }, { sensor: fridge/tmp, above: 1 } ] } }
  - { id: b, when: { rule: c } }
  - { id: c, when: { any: [ { rule: b }, { not: { rule: nope } } ] } }
  - { id: d, when: { sensor: fridge/temp, aggregate: p99, above: 3 } }
  - { id: e, when: { sensor: line1/voltage, stale: true } }
  - { id: a, when: { sensor: fridge/door, eq: 1 }, for: 1m, count: 2, within: 1m }
  - { id: stale, sequence: [ { sensor: fridge/door, eq: 1 }, { sensor: fridge/temp, above: 1 } ] }
derived:
  - { sensor: x/exit, expr: "process.exit()" }
  - { sensor: x/foo, expr: "foo(fridge/temp)" }
  - { sensor: x/half, expr: "fridge/temp * (" }
  - { sensor: x/p, expr: "x/q + 1" }
  - { sensor: x/q, expr: "x/p * 2" }
  - { sensor: fridge/temp, expr: "fridge/door" }
`);
    expect(got).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^rules\[0\]\.when\.all\[1\]\.sensor: "fridge\/tmp" is no sensor any source produces/),
        'rules[2].when.any[1].not.rule: "nope" is no rule of this config',
        expect.stringMatching(/^rules\[\d\]: rules read each other in a cycle: (b -> c -> b|c -> b -> c)$/),
        'rules[3].when.aggregate: pipelines[0] (which "fridge/temp" goes through) does not compute p99: add it to its aggregates',
        'rules[4].when.stale: pipelines[1] (which "line1/voltage" goes through) has staleAfter: off',
        'rules[5].id: "a" is already rules[0]',
        'rules[5].for: for and count do not go together',
        'rules[6].id: is reserved (event/stale/... and event/availability/... carry those events)',
        'rules[6].within: a sequence needs within (the span from its first step to its last)',
        expect.stringMatching(/^derived\[0\]\.expr: only these functions can be called: abs, /),
        expect.stringMatching(/^derived\[1\]\.expr: unknown function "foo" \(available: abs, /),
        expect.stringMatching(/^derived\[2\]\.expr: does not parse: /),
        expect.stringMatching(/^derived\[\d\]\.expr: derived sensors read each other in a cycle: (x\/p -> x\/q -> x\/p|x\/q -> x\/p -> x\/q)$/),
        'derived[5].sensor: "fridge/temp" is already produced by a source: a derived sensor needs an id of its own',
      ]),
    );
  });

  it('check-config, a real process, refuses process.exit() with its path and exits 78', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.yaml'), BASE + 'derived: [ { sensor: x/y, expr: "process.exit(1) + fridge/temp" } ]\n');
    const r = await runCli(['check-config', join(dir, 'bad.yaml')]);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/derived\[0\]\.expr: only these functions can be called/);
  });
});

describe('derived expressions', () => {
  const run = (expr: string, values: Record<string, number>) => {
    const e = compileExpression(expr);
    return e.evaluate(e.inputs.map((s) => values[s]!));
  };
  it('reads sensors by id (division with spaces), in backquotes, with the documented functions', () => {
    expect(run('line1/voltage * line1/current', { 'line1/voltage': 230, 'line1/current': 2 })).toBe(460);
    expect(run('a/x / b/y', { 'a/x': 9, 'b/y': 3 })).toBe(3);
    expect(run('`kitchen sensor/temp` - 1', { 'kitchen sensor/temp': 21 })).toBe(20);
    expect(run('c_to_f(gh/t)', { 'gh/t': 100 })).toBe(212);
    expect(run('round(dewpoint(gh/t, gh/rh), 2)', { 'gh/t': 20, 'gh/rh': 50 })).toBe(9.26); // Magnus (Sonntag): 9.26 °C
    expect(run('gh/t > 25 ? 1 : 0', { 'gh/t': 30 })).toBe(1);
    expect(run('max(a/b, c/d, 3) + pi * 0', { 'a/b': 1, 'c/d': 2 })).toBe(3);
    expect(run('door', { door: 1 })).toBe(1); // an id with no "/" (a GPIO sensor)
    expect(run('a/b > 1 == true ? 10 : false', { 'a/b': 2 })).toBe(10);
    expect(run('`min` + 1', { min: 1 })).toBe(2); // a sensor named like a function, in backquotes
    expect(compileExpression('line1/voltage * line1/current').inputs).toEqual(['line1/voltage', 'line1/current']);
    expect(Number.isNaN(run('dewpoint(t/t, t/rh)', { 't/t': 20, 't/rh': 0 }))).toBe(true); // no reading is made of NaN
  });
  it('every expression in docs/rules.md and the shipped configs compiles', () => {
    const texts = ['docs/rules.md', 'device-configs/cold-room-rules.yaml'].map((f) => readFileSync(f, 'utf8'));
    const exprs = texts.flatMap((t) => [...t.matchAll(/expr: "((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!));
    expect(exprs.length).toBeGreaterThanOrEqual(6);
    for (const e of exprs) expect(() => compileExpression(e), e).not.toThrow();
  });

  it('cannot reach anything but the named sensors and the function list', () => {
    // "a/b.constructor" and "constructor" are sensor ids (names that are no function): they read a value, nothing else.
    expect(compileExpression('a/b.constructor + constructor + globalThis + this').inputs).toEqual(['a/b.constructor', 'constructor', 'globalThis', 'this']);
    expect(() => compileExpression('min + a/b')).toThrow(/min is a function: write min\(\.\.\.\)/);
    expect(() => compileExpression('$0 + a/b')).toThrow(/"\$" at 1/);
    // A backquoted id right before a number is two values, not one name (the fuzz test found "`q r`1").
    expect(() => compileExpression('`q r`1')).toThrow(ExpressionError);
    for (const bad of ['process.exit()', 'x/y["__proto__"]', '"text"', 'eval("1")', 'Function("return 1")()', 'a/b; c/d', 'a/b = 3', 'toString(a/b)', 'hasOwnProperty(a/b)']) {
      expect(() => compileExpression(bad), bad).toThrow(ExpressionError);
    }
  });
});
