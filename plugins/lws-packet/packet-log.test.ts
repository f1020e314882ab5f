import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FilePacketLog } from './packet-log.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tsws-log-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('the file packet log', () => {
  it('gives consecutive ids to concurrent appends and keeps every line on disk', async () => {
    const dir = tmp();
    const { log } = FilePacketLog.open(dir, { retention: 1000, fsync: true });
    const stored = await Promise.all(Array.from({ length: 300 }, (_, i) => log.append({ n: i })));
    expect(stored.map((s) => s.id)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    await log.close();
    const lines = fs.readFileSync(path.join(dir, 'packets.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.packet.n)).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it('recovers after a restart: ids continue, a torn last line is dropped', async () => {
    const dir = tmp();
    const first = FilePacketLog.open(dir, { retention: 100, fsync: true }).log;
    await first.append('a');
    await first.append('b');
    await first.close();
    fs.appendFileSync(path.join(dir, 'packets.jsonl'), '{"id":3,"ts":1,"pack');
    const { log, recoveredTornLine } = FilePacketLog.open(dir, { retention: 100, fsync: true });
    expect(recoveredTornLine).toBe(true);
    expect(log.lastId).toBe(2);
    expect((await log.append('c')).id).toBe(3);
    expect(log.after(0, 10).map((p) => p.packet)).toEqual(['a', 'b', 'c']);
    await log.close();
  });

  it('refuses a corrupt middle line, naming the file and line', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'packets.jsonl'), '{"id":1,"ts":1,"packet":1}\nnot json\n{"id":3,"ts":1,"packet":1}\n');
    expect(() => FilePacketLog.open(dir, { retention: 10, fsync: false })).toThrow(/packets\.jsonl:2: not a JSON line/);
  });

  it('keeps only the retention window, compacting the file', async () => {
    const dir = tmp();
    const { log } = FilePacketLog.open(dir, { retention: 5, fsync: false });
    for (let i = 1; i <= 23; i++) await log.append(i);
    expect(log.firstId).toBe(19);
    expect(log.after(0, 100).map((p) => p.id)).toEqual([19, 20, 21, 22, 23]);
    await log.close();
    const lines = fs.readFileSync(path.join(dir, 'packets.jsonl'), 'utf8').trim().split('\n');
    expect(lines.length).toBeLessThanOrEqual(10);
    const reopened = FilePacketLog.open(dir, { retention: 5, fsync: false }).log;
    expect(reopened.lastId).toBe(23);
    await reopened.close();
  });
});
