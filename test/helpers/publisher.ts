import mqtt, { type MqttClient } from 'mqtt';

/** A sensor-side MQTT client on a real TCP connection. */
export async function connectPublisher(port: number, opts: { username?: string; password?: string } = {}): Promise<MqttClient> {
  return mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { ...opts, reconnectPeriod: 0, protocolVersion: 4 });
}
