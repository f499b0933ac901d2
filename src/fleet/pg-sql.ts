// The fleet's SQL is written once, in the SQLite dialect the single-machine store runs; for
// PostgreSQL it is translated here, and the few SQLite functions it uses (json_extract,
// json_array_length, json_insert; json and json_array as outpost_json and outpost_json_array, their names being keywords in PostgreSQL 16+) are defined in the database (PG_COMPAT). What changes:
// `?` placeholders become `$n`; `INSERT OR IGNORE` becomes `ON CONFLICT DO NOTHING`; the
// scalar max(a, b) and min(a, b) become GREATEST and LEAST; the column `end` (a reserved word
// there) is quoted; in table definitions INTEGER becomes BIGINT (epoch milliseconds) and
// `INTEGER PRIMARY KEY` a BIGSERIAL, and the log gets an explicit `rowid` (SQLite's implicit
// one orders it). Quoted text is never touched. Pure.

/** Splits `sql` into [text, isQuoted] segments ('...' and "..." quoted, '' escapes kept). */
function segments(sql: string): Array<[string, boolean]> {
  const out: Array<[string, boolean]> = [];
  let i = 0;
  let start = 0;
  while (i < sql.length) {
    const q = sql[i];
    if (q === "'" || q === '"') {
      if (i > start) out.push([sql.slice(start, i), false]);
      let j = i + 1;
      for (;;) {
        if (j >= sql.length) break;
        if (sql[j] === q) {
          if (sql[j + 1] === q) j += 2;
          else break;
        } else j++;
      }
      out.push([sql.slice(i, j + 1), true]);
      i = start = j + 1;
    } else i++;
  }
  if (start < sql.length) out.push([sql.slice(start), false]);
  return out;
}

/** max(a, b) / min(a, b) with two or more arguments (not the aggregates) -> GREATEST / LEAST. */
function scalarMinMax(sql: string): string {
  const re = /\b(max|min)\(/g;
  let out = '';
  let last = 0;
  for (let m = re.exec(sql); m; m = re.exec(sql)) {
    // Find the matching parenthesis and whether a comma is at its top level.
    let depth = 0;
    let comma = false;
    let quote: string | null = null;
    for (let j = m.index + m[0].length - 1; j < sql.length; j++) {
      const c = sql[j]!;
      if (quote) {
        if (c === quote) quote = null;
        continue;
      }
      if (c === "'" || c === '"') quote = c;
      else if (c === '(') depth++;
      else if (c === ')' && --depth === 0) break;
      else if (c === ',' && depth === 1) comma = true;
    }
    if (!comma) continue;
    out += sql.slice(last, m.index) + (m[1] === 'max' ? 'GREATEST(' : 'LEAST(');
    last = m.index + m[0].length;
  }
  return out + sql.slice(last);
}

export function toPostgres(sql: string): string {
  let n = 0;
  let ignore = false;
  let text = segments(scalarMinMax(sql))
    .map(([s, quoted]) => {
      if (quoted) return s;
      if (/INSERT OR IGNORE INTO/.test(s)) ignore = true;
      return s
        .replace(/INSERT OR IGNORE INTO/g, 'INSERT INTO')
        .replace(/\?/g, () => `$${++n}`)
        .replace(/\bend\b/g, '"end"')
        .replace(/\bINTEGER PRIMARY KEY\b/g, 'BIGSERIAL PRIMARY KEY')
        .replace(/\bINTEGER\b/g, 'BIGINT')
        // json and json_array are keywords since PostgreSQL 16/17: the compat functions have names of their own.
        .replace(/\bjson_array\(/g, 'outpost_json_array(')
        .replace(/\bjson\(/g, 'outpost_json(');
    })
    .join('');
  if (ignore) text = /\sRETURNING\s/.test(text) ? text.replace(/\sRETURNING\s/, ' ON CONFLICT DO NOTHING RETURNING ') : `${text.trimEnd()} ON CONFLICT DO NOTHING`;
  return text;
}

/** The schema for PostgreSQL: translated, and the log with an explicit rowid. */
export function postgresSchema(sql: string): string {
  // (Comments go first: an apostrophe in one would read as a quote.)
  return toPostgres(sql.replace(/--[^\n]*/g, '')).replace(/CREATE TABLE IF NOT EXISTS log \(/, 'CREATE TABLE IF NOT EXISTS log (\n  rowid BIGSERIAL,');
}

/** The SQLite JSON functions the fleet's SQL uses, for PostgreSQL (on text columns holding JSON). */
export const PG_COMPAT = `
CREATE OR REPLACE FUNCTION json_extract(doc text, path text) RETURNS text
  LANGUAGE sql IMMUTABLE AS $f$ SELECT (doc::jsonb) #>> string_to_array(substr(path, 3), '.') $f$;
CREATE OR REPLACE FUNCTION json_array_length(doc text) RETURNS integer
  LANGUAGE sql IMMUTABLE AS $f$ SELECT jsonb_array_length(doc::jsonb) $f$;
CREATE OR REPLACE FUNCTION outpost_json(doc text) RETURNS json
  LANGUAGE sql IMMUTABLE AS $f$ SELECT doc::json $f$;
CREATE OR REPLACE FUNCTION outpost_json_array(val json) RETURNS text
  LANGUAGE sql IMMUTABLE AS $f$ SELECT jsonb_build_array(val::jsonb)::text $f$;
CREATE OR REPLACE FUNCTION json_insert(doc text, path text, val json) RETURNS text
  LANGUAGE sql IMMUTABLE AS $f$ SELECT CASE WHEN path = '$[#]' THEN (doc::jsonb || jsonb_build_array(val::jsonb))::text ELSE NULL END $f$;
`;
