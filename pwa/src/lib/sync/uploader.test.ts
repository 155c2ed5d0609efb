import 'fake-indexeddb/auto';
import { get } from 'svelte/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LoginRequired } from '../session';
import { FieldDb } from '../store/db';
import { Outbox } from '../store/outbox';
import { Uploader, type PushAnswer, type UploaderDeps } from './uploader';

let db: FieldDb;
let box: Outbox;
let clock: number;
let timers: { fn: () => void; ms: number }[];

beforeEach(() => {
  db = new FieldDb(`up-${Math.random()}`);
  clock = 1_000_000;
  box = new Outbox(db, () => clock++);
  timers = [];
});
afterEach(async () => {
  await db.delete();
});

type Body = Parameters<UploaderDeps['push']>[0];

/** A server that keeps what it applied, keyed by id, and answers duplicates like the real one. */
function fakeServer(reject: (id: string, data: unknown) => string | null = () => null) {
  const held = new Map<string, unknown>();
  const calls: Body[] = [];
  const push = async (body: Body): Promise<PushAnswer> => {
    calls.push(body);
    return {
      results: body.records.map((r) => {
        const code = reject(r.id, r.data);
        if (code) return { id: r.id, status: 'rejected' as const, error: { code, message: code } };
        if (held.has(r.id)) return { id: r.id, status: 'duplicate' as const };
        held.set(r.id, r.data);
        return { id: r.id, status: 'applied' as const };
      }),
    };
  };
  return { held, calls, push };
}

function uploader(overrides: Partial<UploaderDeps>): Uploader {
  return new Uploader({
    outbox: box,
    owner: () => 'u1',
    deviceId: async () => 'device-1',
    push: async () => ({ results: [] }),
    probe: async () => true,
    now: () => clock,
    setTimer: (fn, ms) => timers.push({ fn, ms }),
    clearTimer: () => {},
    random: () => 0.5,
    batchSize: 2,
    ...overrides,
  });
}

async function addVisits(n: number): Promise<string[]> {
  const ids = [];
  for (let i = 0; i < n; i++) ids.push((await box.add('u1', { kind: 'assistance_record', data: { n: i } })).id);
  return ids;
}

describe('uploader', () => {
  it('sends the outbox oldest first in batches and empties it', async () => {
    const ids = await addVisits(5);
    const server = fakeServer();
    const up = uploader({ push: server.push });
    await up.kick();
    expect(server.calls.map((c) => c.records.map((r) => r.id))).toEqual([ids.slice(0, 2), ids.slice(2, 4), ids.slice(4)]);
    expect(server.calls.every((c) => c.device_id === 'device-1')).toBe(true);
    expect(await db.outbox.count()).toBe(0);
    const s = get(up.state);
    expect([s.phase, s.pending, s.lastSyncAt]).toEqual(['idle', 0, clock]);
  });

  it('is single-flight: kicks during a run do not send a batch twice', async () => {
    await addVisits(3);
    const server = fakeServer();
    let inFlight = 0;
    let most = 0;
    const up = uploader({
      push: async (b) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        return server.push(b);
      },
    });
    await Promise.all([up.kick(), up.kick(), up.kick()]);
    expect(most).toBe(1);
    expect(server.held.size).toBe(3);
    expect(server.calls.flatMap((c) => c.records).length).toBe(3);
  });

  it('does not try when the server is unreachable, and schedules a retry', async () => {
    await addVisits(1);
    const server = fakeServer();
    const up = uploader({ push: server.push, probe: async () => false });
    await up.kick();
    expect(server.calls).toEqual([]);
    expect(get(up.state).phase).toBe('offline');
    expect(timers.length).toBe(1);
  });

  it('backs off exponentially on server errors and keeps every record', async () => {
    const ids = await addVisits(2);
    const server = fakeServer();
    let failures = 3;
    const up = uploader({
      push: async (b) => {
        if (failures-- > 0) throw Object.assign(new Error('HTTP 500'), { status: 500 });
        return server.push(b);
      },
    });
    await up.kick();
    for (let i = 0; i < 3; i++) {
      expect(get(up.state).phase).toBe('retrying');
      expect(await db.outbox.count()).toBe(2);
      const t = timers.shift()!;
      t.fn();
      await up.kick();
    }
    // random() = 0.5 → three quarters of 2 s, 4 s, 8 s.
    expect(server.held.size).toBe(2);
    expect([...server.held.keys()].sort()).toEqual([...ids].sort());
    expect(await db.outbox.count()).toBe(0);
    expect(get(up.state).phase).toBe('idle');
  });

  it('grows the delay between attempts', async () => {
    await addVisits(1);
    const delays: number[] = [];
    const up = uploader({
      push: async () => {
        throw new TypeError('Failed to fetch');
      },
      setTimer: (_fn, ms) => delays.push(ms),
    });
    for (let i = 0; i < 4; i++) await up.kick();
    expect(delays).toEqual([1500, 3000, 6000, 12000]);
    expect((await db.outbox.toArray())[0].attempts).toBe(4);
  });

  it('sets a rejected record aside without blocking the others', async () => {
    const ids = await addVisits(4);
    const server = fakeServer((id) => (id === ids[1] ? 'household_not_found' : null));
    const up = uploader({ push: server.push });
    await up.kick();
    expect([...server.held.keys()].sort()).toEqual([ids[0], ids[2], ids[3]].sort());
    const left = await db.outbox.toArray();
    expect(left.map((e) => [e.id, e.status, e.lastError?.code])).toEqual([[ids[1], 'rejected', 'household_not_found']]);
    const s = get(up.state);
    expect([s.phase, s.pending, s.rejected]).toEqual(['idle', 0, 1]);
  });

  it('pauses on LoginRequired and sends nothing more until resumed', async () => {
    await addVisits(3);
    const server = fakeServer();
    let loggedIn = false;
    const up = uploader({
      push: async (b) => {
        if (!loggedIn) throw new LoginRequired();
        return server.push(b);
      },
    });
    await up.kick();
    expect(get(up.state).phase).toBe('needs_login');
    await up.kick();
    expect(server.calls.length).toBe(0);
    expect(await db.outbox.count()).toBe(3);
    loggedIn = true;
    await up.resume();
    expect(server.held.size).toBe(3);
    expect(await db.outbox.count()).toBe(0);
  });

  it('survives a lost reply: the retry is answered duplicate and nothing is doubled', async () => {
    const ids = await addVisits(2);
    const server = fakeServer();
    let lose = true;
    const up = uploader({
      push: async (b) => {
        const answer = await server.push(b);
        if (lose) {
          lose = false;
          throw new TypeError('connection reset');
        }
        return answer;
      },
    });
    await up.kick();
    timers.shift()!.fn();
    await up.kick();
    expect(server.held.size).toBe(2);
    expect([...server.held.keys()].sort()).toEqual([...ids].sort());
    expect(await db.outbox.count()).toBe(0);
  });

  it('pulls after the outbox is empty and records the time of the last full sync', async () => {
    await addVisits(1);
    const server = fakeServer();
    const order: string[] = [];
    let saved = 0;
    const up = uploader({
      push: async (b) => {
        order.push('push');
        return server.push(b);
      },
      afterSync: async () => {
        order.push('pull');
      },
      onLastSync: (at) => (saved = at),
    });
    await up.kick();
    expect(order).toEqual(['push', 'pull']);
    expect(saved).toBe(clock);
  });
});
