// Sensor-id and field-path globs (pipeline routing, include/exclude): "*" matches within one
// "/" level, "?" one character of it, and "**" as a whole level one or more levels. Matched
// level by level, never by one regular expression over the whole id: a device chooses its field
// names, and "**/x/**/y" as a regex backtracks for seconds over a long path of "/"s.

export type GlobMatcher = (sensor: string) => boolean;

/** Whether `text` (one level) matches `pattern` (one level, with * and ?): greedy, one backtrack point. */
function levelMatches(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === '?' || (pattern[p] !== '*' && pattern[p] === text[t]))) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++mark;
    } else return false;
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

type Levels = readonly string[];

function compileLevels(pattern: string): (levels: Levels) => boolean {
  // "**" inside a level (foo**) crosses levels as it always did: the whole pattern as one level.
  const parts = pattern.split('/').map((l) => (l !== '**' && l.includes('**') ? l.replace(/\*\*+/g, '*') : l));
  const literal = !/[*?]/.test(pattern);
  if (literal) return (levels) => levels.length === parts.length && levels.every((l, i) => l === parts[i]);
  return (levels) => {
    // reach[j]: pattern levels so far can end exactly before path level j.
    let reach = new Uint8Array(levels.length + 1);
    reach[0] = 1;
    for (const part of parts) {
      const next = new Uint8Array(levels.length + 1);
      let any = false;
      if (part === '**') {
        // one or more whole levels
        let open = false;
        for (let j = 0; j < levels.length; j++) {
          if (reach[j]) open = true;
          if (open) next[j + 1] = 1;
        }
      } else {
        for (let j = 0; j < levels.length; j++) if (reach[j] && levelMatches(part, levels[j]!)) next[j + 1] = 1;
      }
      for (const v of next) any ||= v === 1;
      if (!any) return false;
      reach = next;
    }
    return reach[levels.length] === 1;
  };
}

export function compileGlob(pattern: string): GlobMatcher {
  const m = compileLevels(pattern);
  return (sensor) => m(sensor.split('/'));
}

export function compileGlobs(patterns: readonly string[]): GlobMatcher {
  const matchers = patterns.map(compileLevels);
  return (sensor) => {
    const levels = sensor.split('/');
    return matchers.some((m) => m(levels));
  };
}
