/**
 * Sensor ids become MQTT topic levels (`<prefix>/summary/<sensor>`) and SQLite keys. An id is
 * one or more non-empty levels separated by "/", in any UTF-8 letters, digits, spaces and
 * punctuation (zigbee2mqtt friendly names such as "Küche Fenster" are common), without the MQTT
 * wildcards "+" and "#", and without control characters (NUL included). Its length in UTF-8
 * bytes is bounded by limits.maxSensorIdLength (admission.ts).
 */
// eslint-disable-next-line no-control-regex
const LEVEL_RE = /^[^/+#\u0000-\u001f\u007f-\u009f\u2028\u2029]+$/u;

/** What is wrong with `id` as a sensor id, or undefined when nothing is. */
export function sensorIdProblem(id: string): string | undefined {
  if (id === '') return 'is empty';
  if (/\p{Cs}/u.test(id)) return 'is not valid UTF-8 text (a lone surrogate)';
  const levels = id.split('/');
  for (const level of levels) {
    if (level === '') return 'has an empty level ("//", or "/" at the start or end)';
    if (!LEVEL_RE.test(level)) return 'holds "+", "#" or a control character';
  }
  return undefined;
}

export function isValidSensorId(id: string): boolean {
  return sensorIdProblem(id) === undefined;
}

const utf8 = new TextEncoder();
/** UTF-8 bytes of an id (what the MQTT topic and the database hold). */
export const sensorIdBytes = (id: string): number => utf8.encode(id).length;
