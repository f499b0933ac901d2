// A socket as aedes sees it, with the frame guard in front: bytes pass through unchanged until
// a frame breaks the rules, then the socket is destroyed before the packet is buffered.
// Backpressure is kept: when aedes stops reading, the socket is paused (TCP slows the sender).
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { FrameGuard, FrameVerdict } from './frame-guard.js';

export interface GuardedConnection extends Duplex {
  /** Hands over bytes read before the connection was made (the socket's first chunk). */
  feed(chunk: Buffer): void;
}

export function guardConnection(socket: Socket, guard: FrameGuard, onViolation: (v: FrameVerdict) => void): GuardedConnection {
  const conn = new Duplex({
    allowHalfOpen: false,
    read() {
      socket.resume();
    },
    write(chunk: Buffer, encoding, callback) {
      if (socket.destroyed) return callback();
      socket.write(chunk, encoding, (err) => callback(err ?? undefined));
    },
    final(callback) {
      socket.end(() => callback());
    },
    destroy(err, callback) {
      socket.destroy();
      callback(err);
    },
  });
  const onData = (chunk: Buffer) => {
    const verdict = guard.feed(chunk);
    if (verdict) {
      socket.pause();
      onViolation(verdict);
      socket.destroy();
      conn.destroy();
      return;
    }
    if (!conn.push(chunk)) socket.pause();
  };
  socket.on('data', onData);
  socket.on('end', () => conn.push(null));
  socket.on('error', (err) => conn.destroy(err));
  socket.on('close', () => conn.destroy());
  // What aedes reads from its connection (remote address for logs, TLS peer certificate).
  Object.assign(conn, { remoteAddress: socket.remoteAddress, remotePort: socket.remotePort });
  return Object.assign(conn, { feed: onData });
}
