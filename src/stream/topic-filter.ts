// MQTT topic filters ("+" one level, "#" the rest), used for source subscriptions and broker ACLs.

export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const part = f[i]!;
    if (part === '#') return true;
    if (i >= t.length) return false;
    if (part !== '+' && part !== t[i]) return false;
  }
  return f.length === t.length;
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
  const prefix = literalPrefix(filter);
  return prefix !== '' && topic.startsWith(prefix) ? topic.slice(prefix.length) : topic;
}
