// MQTT topic filters ("+" one level, "#" the rest), used for source subscriptions and broker ACLs.
// On the hot path (every message) filters are compiled once (compileTopicFilters) and each
// distinct topic's answer is cached, with a bound: a device's topics repeat, so a message costs
// one lookup instead of splitting and comparing every filter again.

/** Distinct topics remembered per compiled filter set; past this the cache starts over. */
export const TOPIC_CACHE_SIZE = 4096;

export interface TopicFilterSet {
  /** Whether any filter matches `topic`. */
  (topic: string): boolean;
  /** Topics parsed (cache misses) so far: for tests and profiles. */
  readonly parsed: number;
}

/** One filter, split into levels once. */
function compileOne(filter: string): (levels: readonly string[]) => boolean {
  const f = filter.split('/');
  return (t) => {
    for (let i = 0; i < f.length; i++) {
      const part = f[i]!;
      if (part === '#') return true;
      if (i >= t.length) return false;
      if (part !== '+' && part !== t[i]) return false;
    }
    return f.length === t.length;
  };
}

/** A per-topic cache of any function of the topic, bounded (past TOPIC_CACHE_SIZE it starts over). */
export function cachedByTopic<T>(fn: (topic: string) => T): (topic: string) => T {
  const cache = new Map<string, T>();
  return (topic) => {
    if (cache.has(topic)) return cache.get(topic)!;
    const v = fn(topic);
    if (cache.size >= TOPIC_CACHE_SIZE) cache.clear();
    cache.set(topic, v);
    return v;
  };
}

/** Filters compiled once, with a bounded per-topic cache of the answer. */
export function compileTopicFilters(filters: readonly string[]): TopicFilterSet {
  const compiled = filters.map(compileOne);
  let parsed = 0;
  const matches = cachedByTopic((topic) => {
    parsed++;
    const levels = topic.split('/');
    return compiled.some((m) => m(levels));
  }) as TopicFilterSet;
  Object.defineProperty(matches, 'parsed', { get: () => parsed });
  return matches;
}

export function topicMatches(filter: string, topic: string): boolean {
  return compileOne(filter)(topic.split('/'));
}

/** The literal levels before the first wildcard, with its trailing "/": "sensors/#" -> "sensors/". */
export function literalPrefix(filter: string): string {
  const levels = filter.split('/');
  const idx = levels.findIndex((l) => l === '+' || l === '#');
  if (idx === -1) return '';
  return levels.slice(0, idx).map((l) => `${l}/`).join('');
}

/** Sensor id for a topic received through `filter`: the topic minus the filter's literal prefix. */
export function sensorIdFromTopic(filter: string, topic: string): string {
  return sensorIdsFor(filter)(topic);
}

/** sensorIdFromTopic with the filter's prefix computed once. */
export function sensorIdsFor(filter: string): (topic: string) => string {
  const prefix = literalPrefix(filter);
  return (topic) => (prefix !== '' && topic.startsWith(prefix) ? topic.slice(prefix.length) : topic);
}

/**
 * What is wrong with a topic filter by the MQTT spec (4.7), or undefined: "#" only as the
 * whole last level, "+" only as a whole level, no NUL, at most 65,535 bytes of UTF-8. Shared
 * by config checking and the broker, so check-config refuses what a subscription would.
 */
export function topicFilterProblem(filter: string): string | undefined {
  if (filter.length === 0) return 'is empty';
  if (filter.length > 21_845 && new TextEncoder().encode(filter).length > 65_535) return 'is longer than 65,535 bytes';
  if (filter.includes('\u0000')) return 'contains a NUL character';
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i]!;
    if (l.includes('#') && (l !== '#' || i !== levels.length - 1)) return `"#" must be a whole level and the last one (in "${filter}")`;
    if (l.includes('+') && l !== '+') return `"+" must be a whole level (in "${filter}")`;
  }
  return undefined;
}

/**
 * Orders two filters by how specifically they name a topic: compared level by level, a literal
 * beats "+", "+" beats the filter's end, and the end beats "#" (homeassistant/+/+/state is more
 * specific than +/sensor/+/state; kitchen/status than kitchen/status/#). Negative when `a` is
 * the more specific, positive when `b` is, 0 when they tie.
 */
export function compareSpecificity(a: string, b: string): number {
  const kind = (level: string | undefined) => (level === undefined ? 0.5 : level === '#' ? 0 : level === '+' ? 1 : 2);
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = kind(y[i]) - kind(x[i]);
    if (d !== 0) return d;
  }
  return 0;
}
