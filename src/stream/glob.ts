// Sensor-id globs for pipeline routing: "*" matches within one "/" level, "**" across levels.

export type GlobMatcher = (sensor: string) => boolean;

export function compileGlob(pattern: string): GlobMatcher {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const compiled = new RegExp(`^${re}$`, 'u');
  return (sensor) => compiled.test(sensor);
}

export function compileGlobs(patterns: readonly string[]): GlobMatcher {
  const matchers = patterns.map(compileGlob);
  return (sensor) => matchers.some((m) => m(sensor));
}
