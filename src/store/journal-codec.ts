// The journal's batch format: one group commit's entries packed column-wise in one BLOB, so a
// reading costs 29 bytes and no per-row SQL work. Layout (little-endian):
//   u32 count | u32 sensor-table byte length | sensor table (JSON array of names)
//   i32[count] sensor index (-1: a tick, -2: a clock jump of `value` ms, -3 - i: availability
//   of device i, `value` 1 online / 0 offline) | f64[count] ts | f64[count] value | f64[count] receivedAt
//   u8[count] late flag
// Appending writes straight into typed arrays: no object per reading on the hot path.

export interface JournalBatchWriter {
  reading(sensor: string, ts: number, value: number, receivedAt: number, late: boolean): void;
  tick(now: number): void;
  /** The wall clock jumped by `deltaMs` at `now`. */
  shift(deltaMs: number, now: number): void;
  /** A device's firmware said it is online or offline at `at`. */
  availability(device: string, online: boolean, at: number): void;
  readonly count: number;
  readonly firstReceived: number;
  readonly lastReceived: number;
  /** The packed batch; the writer is empty afterwards. */
  take(): Buffer;
}

export interface JournalEntryView {
  /** null: a tick (or, with `shift`, a clock jump). */
  sensor: string | null;
  /** A clock jump of `value` ms: shift arrival times. */
  shift: boolean;
  /** A device's availability (`sensor` is the device, `value` 1 online, 0 offline). */
  availability: boolean;
  ts: number;
  value: number;
  receivedAt: number;
  late: boolean;
}

export function createJournalBatch(initialCapacity = 1024): JournalBatchWriter {
  let cap = initialCapacity;
  let idx = new Int32Array(cap);
  let ts = new Float64Array(cap);
  let val = new Float64Array(cap);
  let rcv = new Float64Array(cap);
  let late = new Uint8Array(cap);
  let n = 0;
  let names: string[] = [];
  let nameIdx = new Map<string, number>();

  const grow = () => {
    cap *= 2;
    const i2 = new Int32Array(cap); i2.set(idx); idx = i2;
    const t2 = new Float64Array(cap); t2.set(ts); ts = t2;
    const v2 = new Float64Array(cap); v2.set(val); val = v2;
    const r2 = new Float64Array(cap); r2.set(rcv); rcv = r2;
    const l2 = new Uint8Array(cap); l2.set(late); late = l2;
  };
  const push = (sensorIndex: number, t: number, v: number, r: number, l: boolean) => {
    if (n === cap) grow();
    idx[n] = sensorIndex;
    ts[n] = t;
    val[n] = v;
    rcv[n] = r;
    late[n] = l ? 1 : 0;
    n++;
  };

  const nameOf = (sensor: string) => {
    let i = nameIdx.get(sensor);
    if (i === undefined) {
      i = names.length;
      names.push(sensor);
      nameIdx.set(sensor, i);
    }
    return i;
  };

  return {
    reading(sensor, t, v, r, l) {
      push(nameOf(sensor), t, v, r, l);
    },
    availability(device, online, at) {
      push(-3 - nameOf(device), at, online ? 1 : 0, at, false);
    },
    tick(now) {
      push(-1, now, 0, now, false);
    },
    shift(deltaMs, now) {
      push(-2, now, deltaMs, now, false);
    },
    get count() {
      return n;
    },
    get firstReceived() {
      return n > 0 ? rcv[0]! : 0;
    },
    get lastReceived() {
      return n > 0 ? rcv[n - 1]! : 0;
    },
    take() {
      const table = Buffer.from(JSON.stringify(names));
      const out = Buffer.allocUnsafe(8 + table.length + n * 29);
      out.writeUInt32LE(n, 0);
      out.writeUInt32LE(table.length, 4);
      table.copy(out, 8);
      let at = 8 + table.length;
      const put = (a: ArrayBufferView, bytes: number) => {
        out.set(new Uint8Array(a.buffer, a.byteOffset, bytes), at);
        at += bytes;
      };
      put(idx, n * 4);
      put(ts, n * 8);
      put(val, n * 8);
      put(rcv, n * 8);
      put(late, n);
      n = 0;
      names = [];
      nameIdx = new Map();
      return out;
    },
  };
}

/** Calls `visit` for each entry of a packed batch, in order. */
export function decodeJournalBatch(buf: Uint8Array, visit: (e: JournalEntryView) => void): void {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = b.readUInt32LE(0);
  const tableLen = b.readUInt32LE(4);
  const names = JSON.parse(b.toString('utf8', 8, 8 + tableLen)) as string[];
  // Copy the columns out: the blob's offset need not be aligned for typed-array views.
  let at = 8 + tableLen;
  const column = <T>(Ctor: { new (ab: ArrayBuffer): T }, bytes: number): T => {
    const ab = new ArrayBuffer(bytes);
    new Uint8Array(ab).set(b.subarray(at, at + bytes));
    at += bytes;
    return new Ctor(ab);
  };
  const idx = column(Int32Array, n * 4);
  const ts = column(Float64Array, n * 8);
  const val = column(Float64Array, n * 8);
  const rcv = column(Float64Array, n * 8);
  const late = b.subarray(at, at + n);
  const e: JournalEntryView = { sensor: null, shift: false, availability: false, ts: 0, value: 0, receivedAt: 0, late: false };
  for (let i = 0; i < n; i++) {
    const s = idx[i]!;
    e.availability = s <= -3;
    e.sensor = s >= 0 ? names[s]! : e.availability ? names[-3 - s]! : null;
    e.shift = s === -2;
    e.ts = ts[i]!;
    e.value = val[i]!;
    e.receivedAt = rcv[i]!;
    e.late = late[i] === 1;
    visit(e);
  }
}
