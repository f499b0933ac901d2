/**
 * Sensor ids become MQTT topic levels (`<prefix>/summary/<sensor>`) and SQLite keys, so they are
 * printable, "/"-separated, and free of MQTT wildcards. ":" is allowed for SenML URN names.
 */
export const SENSOR_ID_PATTERN = /^[A-Za-z0-9_.:-]+(\/[A-Za-z0-9_.:-]+)*$/;

export function isValidSensorId(id: string): boolean {
  return SENSOR_ID_PATTERN.test(id);
}
