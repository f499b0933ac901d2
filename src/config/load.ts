// Reads a YAML config, resolves ${env:}/${file:} references, validates it against the schema,
// and returns either a ready-to-use config or every problem at once (never just the first).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';
import { interpolate } from './interpolate.js';
import { formatPath } from './format-path.js';
import type { ConfigProblem } from './problems.js';

/** Config with defaults that depend on other fields filled in and paths made absolute. */
export type AgentConfig = Omit<Config, 'uplink' | 'storage'> & {
  uplink: Config['uplink'] & { topicPrefix: string; clientId: string };
  storage: Omit<Config['storage'], 'journal' | 'deadLetters'> & {
    journal: Config['storage']['journal'] & { maxBytes: number };
    deadLetters: Config['storage']['deadLetters'] & { maxBytes: number };
  };
};

export type LoadResult = { ok: true; config: AgentConfig } | { ok: false; problems: ConfigProblem[] };

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Relative paths in the config resolve against this (default: the config file's directory). */
  dir?: string;
  /** Name used in YAML syntax error locations. */
  label?: string;
  /** false: leave ${env:}/${file:} unread (validate a device's config on another machine). */
  resolveSecrets?: boolean;
}

export function loadConfigFile(file: string, opts: LoadOptions = {}): LoadResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { ok: false, problems: [{ path: file, message: `cannot read config file (${(err as NodeJS.ErrnoException).code ?? err})` }] };
  }
  return parseConfigText(text, { dir: dirname(resolve(file)), label: file, ...opts });
}

export function parseConfigText(text: string, opts: LoadOptions = {}): LoadResult {
  const r = parseWithSchema(configSchema, text, opts);
  return r.ok ? { ok: true, config: finish(r.value, opts.dir ?? process.cwd()) } : r;
}

/**
 * YAML text through any zod schema (the agent's config, the fleet service's): ${env:}/${file:}
 * interpolated, every problem with its path, secrets never echoed.
 */
export function parseWithSchema<S extends z.ZodType>(schema: S, text: string, opts: LoadOptions = {}): { ok: true; value: z.output<S> } | { ok: false; problems: ConfigProblem[] } {
  const dir = opts.dir ?? process.cwd();
  const label = opts.label ?? 'config';
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, lineCounter: lines });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const at = lines.linePos(e.pos[0]);
        return { path: `${label}:${at.line}:${at.col}`, message: e.message.split('\n')[0]! };
      }),
    };
  }
  let tree: unknown;
  try {
    // toJS resolves aliases: an alias before its anchor, or an alias bomb, throws here.
    tree = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (err) {
    return { ok: false, problems: [{ path: label, message: `YAML: ${(err as Error).message.split('\n')[0]}` }] };
  }
  const problems: ConfigProblem[] = [];
  const origins = new Map<string, string>();
  const raw = interpolate(tree, { env: opts.env ?? process.env, dir, resolve: opts.resolveSecrets }, problems, origins);
  const parsed = schema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    // A missing ${env:X} already explains why its field is empty or invalid: say it once.
    const explained = new Set(problems.map((p) => p.path));
    problems.push(...parsed.error.issues.flatMap((i) => hideSecrets(i, toProblems(i), origins)).filter((p) => !explained.has(p.path)));
  }
  if (problems.length > 0 || !parsed.success) return { ok: false, problems: dedupe(problems) };
  return { ok: true, value: parsed.data };
}

function finish(cfg: Config, dir: string): AgentConfig {
  const tls = cfg.uplink.tls && {
    ...cfg.uplink.tls,
    ca: cfg.uplink.tls.ca && resolve(dir, cfg.uplink.tls.ca),
    cert: cfg.uplink.tls.cert && resolve(dir, cfg.uplink.tls.cert),
    key: cfg.uplink.tls.key && resolve(dir, cfg.uplink.tls.key),
  };
  const brokerTls = cfg.broker.tls && {
    ...cfg.broker.tls,
    cert: resolve(dir, cfg.broker.tls.cert),
    key: resolve(dir, cfg.broker.tls.key),
    ca: cfg.broker.tls.ca && resolve(dir, cfg.broker.tls.ca),
  };
  const st = cfg.storage;
  return {
    ...cfg,
    broker: { ...cfg.broker, tls: brokerTls },
    storage: {
      ...st,
      path: resolve(dir, st.path),
      journal: { ...st.journal, maxBytes: st.journal.maxBytes ?? Math.floor(st.maxBytes / 4) },
      deadLetters: { ...st.deadLetters, maxBytes: st.deadLetters.maxBytes ?? Math.floor(st.maxBytes / 16) },
    },
    uplink: {
      ...cfg.uplink,
      tls,
      topicPrefix: (cfg.uplink.topicPrefix ?? `outpost/${cfg.device.id}`).replace(/\/+$/, ''),
      clientId: cfg.uplink.clientId ?? `outpost-${cfg.device.id}`,
    },
  };
}

function toProblems(issue: z.core.$ZodIssue): ConfigProblem[] {
  const path = issue.path;
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) => ({ path: formatPath([...path, k]), message: 'unknown key (check the spelling; `outpost schema` lists the keys)' }));
    case 'invalid_type':
      if (issue.input === undefined) return [{ path: formatPath(path), message: `is required (${issue.expected})` }];
      return [{ path: formatPath(path), message: `must be a ${issue.expected}, not ${describe(issue.input, isSecret(path))}` }];
    case 'invalid_value':
      return [{ path: formatPath(path), message: `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}` }];
    default:
      return [{ path: formatPath(path), message: issue.message }];
  }
}

/**
 * A field whose value came from ${env:} or ${file:} may hold a secret: its problem names the
 * field, the reference and what was expected, never the value.
 */
function hideSecrets(issue: z.core.$ZodIssue, found: ConfigProblem[], origins: Map<string, string>): ConfigProblem[] {
  return found.map((p) => {
    const ref = origins.get(p.path);
    if (ref === undefined) return p;
    const expected = issue.code === 'invalid_type' ? `must be a ${issue.expected}` : issue.code === 'invalid_value' ? p.message : 'is not valid here';
    return { path: p.path, message: `${expected}; its value comes from ${ref} and is not shown` };
  });
}

function describe(value: unknown, secret: boolean): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'a mapping';
  return secret ? `a ${typeof value}` : `${typeof value} ${JSON.stringify(value)}`;
}

/** Problems are printed and logged: never echo what may be a secret. */
function isSecret(path: readonly PropertyKey[]): boolean {
  return /password|secret|token|key/i.test(String(path[path.length - 1] ?? ''));
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
