// Commands as the API answers them (GET /api/commands): their state, with `timed-out` for one
// that had no final reply by its expiry (plus a grace for the reply's way back).
import type { Database } from '../store/sqlite.js';

const GRACE_MS = 5000;
const iso = (ms: number | null) => (ms === null || !Number.isFinite(ms) ? null : new Date(ms).toISOString());

interface Row {
  id: string;
  device: string;
  name: string;
  args: string | null;
  issued_by: string | null;
  issued_at: number | null;
  expires_at: number | null;
  state: string;
  rank: number;
  updated_at: number;
  result: string | null;
  error: string | null;
  replies: string;
  closes_gap: string | null;
}

export async function listCommands(db: Database, q: { device?: string; id?: string; limit?: number }, now = Date.now()) {
  const where: string[] = [];
  const params: unknown[] = [];
  for (const [column, value] of [['device', q.device], ['id', q.id]] as const) {
    if (value === undefined) continue;
    where.push(`${column} = ?`);
    params.push(value);
  }
  const rows = await db.all<Row>(`SELECT * FROM commands ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY coalesce(issued_at, updated_at) DESC, device, id LIMIT ?`, [...params, Math.max(1, Math.min(1000, q.limit ?? 200))]);
  return rows.map((r) => ({
    id: r.id,
    device: r.device,
    name: r.name,
    args: r.args === null ? null : (JSON.parse(r.args) as unknown),
    issuedBy: r.issued_by,
    issuedAt: iso(r.issued_at),
    expiresAt: iso(r.expires_at),
    state: r.rank < 3 && r.expires_at !== null && now > r.expires_at + GRACE_MS ? 'timed-out' : r.state,
    updatedAt: iso(r.updated_at),
    result: r.result === null ? null : (JSON.parse(r.result) as unknown),
    error: r.error,
    replies: JSON.parse(r.replies) as unknown[],
    ...(r.closes_gap && { closesGap: JSON.parse(r.closes_gap) as unknown }),
  }));
}
