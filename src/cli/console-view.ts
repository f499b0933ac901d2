// The demo's live view: what arrives at the fleet broker, one line per message.
import type { Io } from './io.js';

const time = (iso: string) => iso.slice(11, 19);

export function describeUpstream(topic: string, payload: string, prefix: string): string | undefined {
  const rest = topic.startsWith(`${prefix}/`) ? topic.slice(prefix.length + 1) : topic;
  if (rest === 'status') return `status    ${payload}`;
  if (rest === 'health') return undefined; // shown by the backlog line instead
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(payload) as Record<string, unknown>;
  } catch {
    return `?         ${topic} ${payload.slice(0, 60)}`;
  }
  const n = (k: string) => (typeof m[k] === 'number' ? (m[k] as number).toFixed(2) : '-');
  if (rest.startsWith('summary/')) {
    const w = m.window as { start: string; end: string };
    return `summary   ${String(m.sensor).padEnd(22)} [${time(w.start)}-${time(w.end)}) n=${String(m.count).padEnd(3)} mean=${n('mean')} min=${n('min')} max=${n('max')}  ${m.id}${m.partial ? ' (partial)' : ''}`;
  }
  if (rest.startsWith('anomaly/')) {
    return `ANOMALY   ${String(m.sensor).padEnd(22)} ${time(String(m.ts))} ${m.detector}/${m.severity}: ${m.message}  ${m.id}`;
  }
  return undefined;
}

export function printLine(io: Io, text: string, now = new Date()): void {
  io.out(`${now.toISOString().slice(11, 19)}  ${text}`);
}
