// A config as `config.get` shows it: secrets written literally in the file are replaced by
// REDACTED (references such as ${env:PW} or ${file:...} are shown, they are no secret), and in
// the effective config every secret is. `config.apply` puts the file's values back where a new
// text still says REDACTED at the same path, so a config can be fetched, edited and applied.
import { isMap, isScalar, isSeq, parseDocument, visit, type Document } from 'yaml';
import { redactUrl } from './redact.js';

export const REDACTED = '[redacted]';
const SECRET_KEY = /^(password|secret|token|privateKey|key|passphrase)$/i;

const isReference = (v: unknown) => typeof v === 'string' && /^\$\{(env|file):[^}]+\}$/.test(v.trim());

/** Every scalar value under a key, by path (keys joined). */
function scalarPaths(doc: Document): Map<string, unknown> {
  const found = new Map<string, unknown>();
  visit(doc, {
    Pair(_, pair, path) {
      if (!isScalar(pair.key) || !isScalar(pair.value)) return;
      found.set(pathOf(path, String(pair.key.value)), pair.value.value);
    },
  });
  return found;
}

/** A URL with credentials in it (mqtt://user:pw@host), hidden; anything else as it is. */
const hideUrl = (v: unknown) => (typeof v === 'string' && /^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(v) ? redactUrl(v) : v);

function pathOf(path: readonly unknown[], last: string): string {
  const keys: string[] = [];
  for (let i = 0; i < path.length; i++) {
    const node = path[i];
    const next = path[i + 1];
    if (isMap(node) && next && typeof next === 'object' && 'key' in next) keys.push(String((next as { key: { value?: unknown } }).key?.value));
    if (isSeq(node) && next) keys.push(String(node.items.indexOf(next as never)));
  }
  return [...keys, last].join('.');
}

/** The file's text with literal secrets redacted (comments and layout kept). */
export function redactConfigText(text: string): string {
  const doc = parseDocument(text);
  visit(doc, {
    Pair(_, pair) {
      if (!isScalar(pair.key) || !isScalar(pair.value) || pair.value.value === null || isReference(pair.value.value)) return;
      if (SECRET_KEY.test(String(pair.key.value))) pair.value.value = REDACTED;
      else pair.value.value = hideUrl(pair.value.value);
    },
  });
  return doc.toString();
}

/**
 * A new text with what redaction hid put back from the current file (same path): a REDACTED
 * value, and a URL whose credentials show as *** where the current one, hidden, reads the same.
 */
export function unredactConfigText(next: string, current: string): string {
  if (!next.includes(REDACTED) && !next.includes('***@')) return next;
  const known = scalarPaths(parseDocument(current));
  const doc = parseDocument(next);
  visit(doc, {
    Pair(_, pair, path) {
      if (!isScalar(pair.key) || !isScalar(pair.value)) return;
      const now = pair.value.value;
      const was = known.get(pathOf(path, String(pair.key.value)));
      if (was === undefined) return;
      if ((now === REDACTED && SECRET_KEY.test(String(pair.key.value))) || (typeof now === 'string' && now.includes('***@') && hideUrl(was) === now)) pair.value.value = was;
    },
  });
  return doc.toString();
}

/** The effective config with every secret and URL credential hidden. */
export function redactConfigValue(value: unknown, key = ''): unknown {
  if (typeof value === 'string') return SECRET_KEY.test(key) && value !== '' ? REDACTED : /^(mqtts?|tcp|ssl|postgres(ql)?):\/\//.test(value) ? redactUrl(value) : value;
  if (Array.isArray(value)) return value.map((v) => redactConfigValue(v));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactConfigValue(v, k)]));
  return value;
}
