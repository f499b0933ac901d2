// Holding an MQTT.js client's PUBACKs until what a message became is durable: mqtt.js sends a
// QoS 1 PUBACK as soon as its message handler calls back, and reads the next message only
// then. The handler calls back at once (so messages keep flowing and can be batched) while the
// PUBACK itself waits here for the message's promise: a crash before the commit leaves the
// message unacknowledged, and the broker sends it again.
import type { MqttClient } from 'mqtt';

type Send = (packet: { cmd: string; messageId?: number }, cb?: (err?: Error) => void, ...rest: unknown[]) => void;

/**
 * Returns hold(messageId, until): the PUBACK of that message goes out once `until` settles. With
 * `dropOnFailure`, a rejected `until` sends no PUBACK at all: the message was not kept, and the
 * broker must send it again (after a reconnect of the persistent session).
 */
export function holdPubacks(client: MqttClient, opts: { dropOnFailure?: boolean } = {}): (messageId: number, until: Promise<unknown>) => void {
  const held = new Map<number, Promise<unknown>>();
  const inner = client as unknown as { _sendPacket: Send };
  const send = inner._sendPacket.bind(client);
  inner._sendPacket = (packet, cb, ...rest) => {
    const wait = packet.cmd === 'puback' && packet.messageId !== undefined ? held.get(packet.messageId) : undefined;
    if (!wait) return send(packet, cb, ...rest);
    held.delete(packet.messageId!);
    cb?.(); // mqtt.js may read the next message now
    const go = () => send(packet, undefined, ...rest);
    wait.then(go, opts.dropOnFailure ? () => undefined : go);
  };
  return (messageId, until) => void held.set(messageId, until);
}
