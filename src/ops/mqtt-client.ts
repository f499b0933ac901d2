// Small facts about mqtt.js clients shared by every connection Outpost opens to a broker (the
// uplink, and the fleet service's feed and command connections).
import type { MqttClient } from 'mqtt';

/** The broker refused MQTT 5 (aedes and older brokers answer CONNACK code 1). */
export function refusedProtocol(err: Error & { code?: unknown }): boolean {
  return err.code === 1 || err.code === 132 || /unacceptable protocol version|unsupported protocol version/i.test(err.message);
}

/**
 * Call on each connect: small messages (a command, its reply, a PUBACK) go out now, not after
 * the previous segment's ACK (Nagle + delayed ACK cost ~40 ms a hop). No drain throughput is
 * lost (docs/benchmarks.md, remote commands).
 */
export function sendAtOnce(client: MqttClient): void {
  (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
}
