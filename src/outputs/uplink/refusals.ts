// What an MQTT 5 PUBACK with an error reason code means for the row it answers: refused for
// good (it becomes a dead letter), or for now (sent again after a backoff that doubles per
// refusal of the same row, up to a minute; the 8th refusal makes it a dead letter too).

/** PUBACK reason codes that will not change on a retry. */
const PERMANENT_REFUSALS = new Map([
  [0x87, 'not authorized'],
  [0x90, 'topic name invalid'],
  [0x99, 'payload format invalid'],
]);
const MAX_BACKOFF_MS = 60_000;
/** A message refused for now this many times is kept as a dead letter instead. */
const MAX_TRANSIENT_REFUSALS = 8;

export type RefusalVerdict = { permanent: string } | { backoffMs: number };

/** `attempts`: this refusal included; `baseMs`: the first backoff. */
export function refusalVerdict(code: number, attempts: number, baseMs: number): RefusalVerdict {
  const permanent = PERMANENT_REFUSALS.get(code) ?? (attempts >= MAX_TRANSIENT_REFUSALS ? `refused ${attempts} times` : undefined);
  if (permanent) return { permanent };
  return { backoffMs: Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.min(attempts - 1, 10)) };
}

/** 0x87 as the broker's documentation writes it. */
export const hexCode = (code: number) => `0x${code.toString(16).padStart(2, '0')}`;
