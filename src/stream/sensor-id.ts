/**
 * Sensor ids become MQTT topic levels (`<prefix>/summary/<sensor>`) and SQLite keys. An id is
 * one or more non-empty levels separated by "/", in any UTF-8 letters, digits, spaces and
 * punctuation (zigbee2mqtt friendly names such as "Küche Fenster" are common), without the MQTT
 * wildcards "+" and "#", without control characters (NUL included) and without Unicode
 * noncharacters (U+FDD0-U+FDEF, U+xFFFE, U+xFFFF): Mosquitto drops a connection whose topic
 * holds one (mosquitto_validate_utf8), and the uplink would resend that row forever. Its length
 * in UTF-8 bytes is bounded by limits.maxSensorIdLength (admission.ts).
 */
// eslint-disable-next-line no-control-regex
const LEVEL_RE = /^[^/+#\u0000-\u001f\u007f-\u009f\u2028\u2029\ufdd0-\ufdef]+$/u;
/** Code points U+xFFFE and U+xFFFF of every plane. */
const PLANE_END_RE = /[\ufffe\uffff\u{1fffe}\u{1ffff}\u{2fffe}\u{2ffff}\u{3fffe}\u{3ffff}\u{4fffe}\u{4ffff}\u{5fffe}\u{5ffff}\u{6fffe}\u{6ffff}\u{7fffe}\u{7ffff}\u{8fffe}\u{8ffff}\u{9fffe}\u{9ffff}\u{afffe}\u{affff}\u{bfffe}\u{bffff}\u{cfffe}\u{cffff}\u{dfffe}\u{dffff}\u{efffe}\u{effff}\u{ffffe}\u{fffff}\u{10fffe}\u{10ffff}]/u;

/** What is wrong with `id` as a sensor id, or undefined when nothing is. */
export function sensorIdProblem(id: string): string | undefined {
  if (id === '') return 'is empty';
  if (/\p{Cs}/u.test(id)) return 'is not valid UTF-8 text (a lone surrogate)';
  const levels = id.split('/');
  for (const level of levels) {
    if (level === '') return 'has an empty level ("//", or "/" at the start or end)';
    if (!LEVEL_RE.test(level) || PLANE_END_RE.test(level)) return 'holds "+", "#", a control character or a Unicode noncharacter';
  }
  return undefined;
}

export function isValidSensorId(id: string): boolean {
  return sensorIdProblem(id) === undefined;
}

const utf8 = new TextEncoder();
/** UTF-8 bytes of an id (what the MQTT topic and the database hold). */
export const sensorIdBytes = (id: string): number => utf8.encode(id).length;
