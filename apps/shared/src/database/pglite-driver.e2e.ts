/**
 * The PGlite pool under TypeORM: concurrent transactions each run alone on the single session
 * (a failing one rolls back only its own writes), UPDATE … RETURNING answers as with `pg`, and two
 * DataSources on one directory share the database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { pgliteDriver } from './pglite-driver.js';

const dir = mkdtempSync(join(tmpdir(), 'rocketnest-pglite-'));
let first: DataSource;
let second: DataSource;

beforeAll(async () => {
  first = await new DataSource({ type: 'postgres', driver: pgliteDriver(dir) }).initialize();
  second = await new DataSource({ type: 'postgres', driver: pgliteDriver(dir) }).initialize();
  await first.query(`CREATE TABLE effects (key text NOT NULL, n int NOT NULL DEFAULT 0)`);
}, 120_000);

afterAll(async () => {
  await first?.destroy();
  await second?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

async function keys(prefix: string): Promise<string[]> {
  const rows = (await first.query(`SELECT key FROM effects WHERE key LIKE $1 ORDER BY key`, [
    `${prefix}%`,
  ])) as Array<{
    key: string;
  }>;
  return rows.map((r) => r.key);
}

it('runs 40 concurrent transactions one at a time: the 10 that fail leave nothing, the 30 others commit', async () => {
  const work = Array.from({ length: 40 }, (_, i) =>
    first
      .transaction(async (manager) => {
        await manager.query(`INSERT INTO effects (key) VALUES ($1)`, [`c:${String(i).padStart(2, '0')}`]);
        await new Promise((resolve) => setTimeout(resolve, 1)); // let the others try to interleave
        if (i % 4 === 0) throw new Error(`transaction ${i} fails`);
        await manager.query(`INSERT INTO effects (key) VALUES ($1)`, [`c:${String(i).padStart(2, '0')}b`]);
      })
      .then(
        () => 'ok',
        () => 'failed',
      ),
  );
  const outcomes = await Promise.all(work);
  expect(outcomes.filter((o) => o === 'failed')).toHaveLength(10);
  const stored = await keys('c:');
  expect(stored).toHaveLength(60);
  for (let i = 0; i < 40; i += 4) expect(stored).not.toContain(`c:${String(i).padStart(2, '0')}`);
});

it('answers UPDATE … RETURNING as pg does ([rows, count]) and plain SELECTs as rows', async () => {
  await first.query(`INSERT INTO effects (key) VALUES ('u:1'), ('u:2')`);
  const updated = (await first.query(`UPDATE effects SET n = n + 1 WHERE key LIKE 'u:%' RETURNING key`)) as [
    Array<{ key: string }>,
    number,
  ];
  expect(updated[1]).toBe(2);
  expect(updated[0].map((r) => r.key).sort()).toEqual(['u:1', 'u:2']);
  const none = (await first.query(`UPDATE effects SET n = n + 1 WHERE key = 'absent' RETURNING key`)) as [
    unknown[],
    number,
  ];
  expect(none).toEqual([[], 0]);
});

it('shares one database between DataSources of one directory, and keeps it open until the last one closes', async () => {
  await second.query(`INSERT INTO effects (key) VALUES ('s:1')`);
  expect(await keys('s:')).toEqual(['s:1']);
  const third = await new DataSource({ type: 'postgres', driver: pgliteDriver(dir) }).initialize();
  await third.destroy();
  expect(await keys('s:')).toEqual(['s:1']); // still open for the others
});
