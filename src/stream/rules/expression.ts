// Expressions of derived sensors: parsed by jsep (a parser only: it builds a syntax tree and
// never runs anything), then compiled here into closures over a documented set of operators,
// functions and constants. Nothing else is reachable: no member access, no strings, no
// globals, no eval. Sensors are written by id: a name with "/" or any name that is not a
// function or constant is a sensor (`line1/voltage * line1/current`); an id with spaces or
// other characters goes in backquotes (`kitchen sensor/temp`). Because "/" belongs to ids,
// division is written with spaces around it (`a / b`).
import jsep from 'jsep';

export interface Expression {
  /** The sensors it reads, in the order `evaluate` takes their values. */
  inputs: string[];
  evaluate(values: ArrayLike<number>): number;
}

type Fn = (...xs: number[]) => number;
type Node = (v: ArrayLike<number>) => number;

/** Dew point (°C) from temperature (°C) and relative humidity (%): Magnus formula (Sonntag 1990 constants). */
function dewpoint(t: number, rh: number): number {
  if (!(rh > 0 && rh <= 100)) return NaN;
  const g = Math.log(rh / 100) + (17.62 * t) / (243.12 + t);
  return (243.12 * g) / (17.62 - g);
}

/** The documented function list (docs/rules.md): name -> [function, min args, max args]. */
export const FUNCTIONS: Readonly<Record<string, readonly [Fn, number, number]>> = Object.freeze({
  abs: [Math.abs, 1, 1],
  sign: [Math.sign, 1, 1],
  sqrt: [Math.sqrt, 1, 1],
  pow: [Math.pow, 2, 2],
  exp: [Math.exp, 1, 1],
  ln: [Math.log, 1, 1],
  log10: [Math.log10, 1, 1],
  floor: [Math.floor, 1, 1],
  ceil: [Math.ceil, 1, 1],
  round: [(x: number, digits = 0) => Math.round(x * 10 ** digits) / 10 ** digits, 1, 2],
  min: [Math.min, 1, 16],
  max: [Math.max, 1, 16],
  avg: [(...xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length, 1, 16],
  hypot: [Math.hypot, 1, 16],
  clamp: [(x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x)), 3, 3],
  dewpoint: [dewpoint, 2, 2],
  c_to_f: [(c: number) => (c * 9) / 5 + 32, 1, 1],
  f_to_c: [(f: number) => ((f - 32) * 5) / 9, 1, 1],
  k_to_c: [(k: number) => k - 273.15, 1, 1],
  c_to_k: [(c: number) => c + 273.15, 1, 1],
});

export const CONSTANTS: Readonly<Record<string, number>> = Object.freeze({ pi: Math.PI, e: Math.E, true: 1, false: 0 });

const BINARY: Readonly<Record<string, (a: number, b: number) => number>> = Object.freeze({
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '%': (a, b) => a % b,
  '<': (a, b) => +(a < b),
  '>': (a, b) => +(a > b),
  '<=': (a, b) => +(a <= b),
  '>=': (a, b) => +(a >= b),
  '==': (a, b) => +(a === b),
  '!=': (a, b) => +(a !== b),
  '&&': (a, b) => +(a !== 0 && b !== 0),
  '||': (a, b) => +(a !== 0 || b !== 0),
});

export class ExpressionError extends Error {}

const has = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);
const ID_START = /[\p{L}_]/u;
const ID_PART = /[\p{L}\p{N}_.\-/]/u;
const MAX_LENGTH = 1000;

/** Replaces sensor ids by placeholders `$0`, `$1`, ... (outside nothing: the language has no strings). */
function extractSensors(expr: string): { text: string; inputs: string[] } {
  const inputs: string[] = [];
  const ref = (id: string) => {
    let i = inputs.indexOf(id);
    if (i < 0) i = inputs.push(id) - 1;
    return ` $${i} `; // spaced: "`a b`1" must not read as placeholder $01
  };
  let text = '';
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (c === '`') {
      const end = expr.indexOf('`', i + 1);
      if (end < 0) throw new ExpressionError(`unclosed backquote at ${i + 1}`);
      const id = expr.slice(i + 1, end);
      if (id.length === 0) throw new ExpressionError(`empty sensor id at ${i + 1}`);
      text += ref(id);
      i = end + 1;
    } else if (ID_START.test(c) && !(i > 0 && /[\p{L}\p{N}_.]/u.test(expr[i - 1]!))) {
      let j = i + 1;
      while (j < expr.length && ID_PART.test(expr[j]!)) j++;
      const word = expr.slice(i, j);
      let k = j;
      while (k < expr.length && /\s/.test(expr[k]!)) k++;
      const isCall = expr[k] === '(';
      if (isCall || (!word.includes('/') && has(CONSTANTS, word))) text += word;
      else if (has(FUNCTIONS, word)) throw new ExpressionError(`${word} is a function: write ${word}(...) (a sensor of that name goes in backquotes: \`${word}\`)`);
      else text += ref(word);
      i = j;
    } else if (c === '$') {
      throw new ExpressionError(`"$" at ${i + 1}: not part of the language (an id with it goes in backquotes)`);
    } else {
      text += c;
      i++;
    }
  }
  return { text, inputs };
}

function compileNode(n: jsep.Expression, inputs: readonly string[]): Node {
  switch (n.type) {
    case 'Literal': {
      const v = (n as jsep.Literal).value;
      if (typeof v === 'number') return () => v;
      if (typeof v === 'boolean') return v ? () => 1 : () => 0;
      throw new ExpressionError(`${JSON.stringify((n as jsep.Literal).raw)}: only numbers are values here`);
    }
    case 'Identifier': {
      const name = (n as jsep.Identifier).name;
      if (/^\$\d+$/.test(name)) {
        const i = Number(name.slice(1));
        return (v) => v[i]!;
      }
      if (has(CONSTANTS, name)) {
        const c = CONSTANTS[name]!;
        return () => c;
      }
      throw new ExpressionError(`unknown name "${name}"`);
    }
    case 'UnaryExpression': {
      const u = n as jsep.UnaryExpression;
      const arg = compileNode(u.argument, inputs);
      if (u.operator === '-') return (v) => -arg(v);
      if (u.operator === '+') return arg;
      if (u.operator === '!') return (v) => +(arg(v) === 0);
      throw new ExpressionError(`operator "${u.operator}" is not available`);
    }
    case 'BinaryExpression': {
      const b = n as jsep.BinaryExpression;
      if (!has(BINARY, b.operator)) throw new ExpressionError(`operator "${b.operator}" is not available (use + - * / % < > <= >= == != && || and functions such as pow)`);
      const op = BINARY[b.operator]!;
      const l = compileNode(b.left, inputs);
      const r = compileNode(b.right, inputs);
      return (v) => op(l(v), r(v));
    }
    case 'ConditionalExpression': {
      const c = n as jsep.ConditionalExpression;
      const test = compileNode(c.test, inputs);
      const yes = compileNode(c.consequent, inputs);
      const no = compileNode(c.alternate, inputs);
      return (v) => (test(v) !== 0 ? yes(v) : no(v));
    }
    case 'CallExpression': {
      const call = n as jsep.CallExpression;
      const callee = call.callee;
      if (callee.type !== 'Identifier') throw new ExpressionError(`only these functions can be called: ${Object.keys(FUNCTIONS).join(', ')}`);
      const name = (callee as jsep.Identifier).name;
      if (!has(FUNCTIONS, name)) throw new ExpressionError(`unknown function "${name}" (available: ${Object.keys(FUNCTIONS).join(', ')})`);
      const [fn, lo, hi] = FUNCTIONS[name]!;
      if (call.arguments.length < lo || call.arguments.length > hi) throw new ExpressionError(`${name}() takes ${lo === hi ? lo : `${lo} to ${hi}`} argument${hi === 1 ? '' : 's'}, not ${call.arguments.length}`);
      const args = call.arguments.map((a) => compileNode(a, inputs));
      if (args.length === 1) return (v) => fn(args[0]!(v));
      if (args.length === 2) return (v) => fn(args[0]!(v), args[1]!(v));
      return (v) => fn(...args.map((a) => a(v)));
    }
    case 'MemberExpression':
      throw new ExpressionError('"." and "[]" are not available: write a sensor id as it is, or in backquotes');
    default:
      throw new ExpressionError(`${n.type === 'Compound' ? 'one expression only (no "," or ";" between two)' : `${n.type} is not available`}`);
  }
}

/** Compiles `expr`; throws ExpressionError with what is wrong. */
export function compileExpression(expr: string): Expression {
  if (expr.length > MAX_LENGTH) throw new ExpressionError(`longer than ${MAX_LENGTH} characters`);
  const { text, inputs } = extractSensors(expr);
  let ast: jsep.Expression;
  try {
    ast = jsep(text);
  } catch (err) {
    // (jsep's position counts in the text with sensors replaced: not shown.)
    const e = err as { description?: string; message?: string };
    throw new ExpressionError(`does not parse: ${e.description ?? e.message}`);
  }
  const root = compileNode(ast, inputs);
  if (inputs.length === 0) throw new ExpressionError('reads no sensor');
  return { inputs, evaluate: root };
}
