import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createDb, type Db } from '../db';
import { loadInventory } from '../db/inventory';

let db: Db;
beforeAll(() => {
  db = createDb(process.env.DATABASE_URL!, 2);
});
afterAll(async () => {
  await db.destroy();
});

async function clinic(): Promise<{ id: string; code: string }> {
  const code = `INV-${randomUUID().slice(0, 8)}`;
  const row = await db
    .insertInto('clinics')
    .values({ code, name: 'Inventory test clinic', address: 'x', time_zone: 'Europe/Moscow' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, code };
}
const count = async (table: 'equipment_items' | 'clinic_staff', clinicId: string) =>
  Number(
    (
      await db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('clinic_id', '=', clinicId)
        .executeTakeFirstOrThrow()
    ).n,
  );

describe("loading a city's inventory from CSV", () => {
  test('loads equipment and staff files, and loading them again changes nothing', async () => {
    const c = await clinic();
    const equipment = `clinic_code,item_code,kind\n${c.code},WS-01,workstation\n${c.code},TB-01,doctor-tablet\n`;
    const staff = `clinic_code,staff_code,role\n${c.code},DR-01,doctor\n${c.code},RG-01,registrar\n${c.code},NR-01,nurse\n`;
    expect(await loadInventory(db, equipment)).toEqual({ ok: true, kind: 'equipment', loaded: 2 });
    expect(await loadInventory(db, staff)).toEqual({ ok: true, kind: 'staff', loaded: 3 });
    expect(await loadInventory(db, staff)).toEqual({ ok: true, kind: 'staff', loaded: 3 });
    expect([await count('equipment_items', c.id), await count('clinic_staff', c.id)]).toEqual([2, 3]);
  });

  test('a file with bad rows reports each one by line number and loads nothing', async () => {
    const c = await clinic();
    const csv = `clinic_code,staff_code,role\n${c.code},DR-01,doctor\n${c.code},DR-02,surgeon-general\nNO-SUCH,DR-03,doctor\n${c.code},DR-01,nurse\n`;
    const result = await loadInventory(db, csv);
    expect(result).toEqual({
      ok: false,
      kind: 'staff',
      problems: [
        { line: 3, message: expect.stringContaining('role must be one of') },
        { line: 4, message: 'unknown clinic_code "NO-SUCH"' },
        { line: 5, message: expect.stringContaining('appears twice') },
      ],
    });
    expect(await count('clinic_staff', c.id)).toBe(0);
  });

  test('the command line loader exits non-zero with the bad line and loads nothing', async () => {
    const c = await clinic();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'inventory-'));
    const file = path.join(dir, 'equipment.csv');
    writeFileSync(file, `clinic_code,item_code,kind\n${c.code},WS-01,workstation\n${c.code},,tablet\n`);
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(__dirname, '../db/load-inventory-cli.ts'), file], {
      env: { ...process.env, NODE_ENV: 'development' },
    });
    await expect(run).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('line 3: item_code must be') });
    expect(await count('equipment_items', c.id)).toBe(0);
  });
});
