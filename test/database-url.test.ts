// DATABASE_URL's TLS options as node-postgres reads them (docs/postgresql.md "TLS"),
// beside the startup parameters server/db/connect.ts adds: pure parsing, no server.
import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

interface Parsed {
  ssl?: boolean | { ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean; checkServerIdentity?: unknown };
  options?: string;
  statement_timeout?: number;
}
const parse = (config: pg.ClientConfig) => (new pg.Client(config) as unknown as { connectionParameters: Parsed }).connectionParameters;

test('sslmode=verify-full with sslrootcert: TLS that trusts the CA file, beside the schema and deadline parameters', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'enot-tls-'));
  try {
    const ca = path.join(dir, 'ca.pem');
    await writeFile(ca, '-----BEGIN CERTIFICATE-----\nnot checked here\n-----END CERTIFICATE-----\n');
    const url = `postgres://enot@db.example.com:5432/enot?sslmode=verify-full&sslrootcert=${encodeURIComponent(ca)}`;
    const parsed = parse({ connectionString: url, options: '-c search_path="enot"', statement_timeout: 2000 });
    t.like(parsed, { options: '-c search_path="enot"', statement_timeout: 2000 });
    t.true(typeof parsed.ssl === 'object' && parsed.ssl.ca?.includes('not checked here'));
    t.true(typeof parsed.ssl === 'object' && parsed.ssl.rejectUnauthorized !== false, 'the certificate is verified');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('sslmode=no-verify: TLS without checking the certificate; sslmode=disable and no sslmode: no TLS', (t) => {
  const base = 'postgres://enot@db.example.com:5432/enot';
  t.deepEqual(parse({ connectionString: `${base}?sslmode=no-verify` }).ssl, { rejectUnauthorized: false });
  t.false(parse({ connectionString: `${base}?sslmode=disable` }).ssl);
  t.falsy(parse({ connectionString: base }).ssl);
});

test('uselibpqcompat=true: sslmode=require means libpq\'s (encrypted, not verified)', (t) => {
  const parsed = parse({ connectionString: 'postgres://enot@db.example.com:5432/enot?sslmode=require&uselibpqcompat=true' });
  t.deepEqual(parsed.ssl, { rejectUnauthorized: false });
});

test('an options= in DATABASE_URL replaces the one Enot ID sets (docs/postgresql.md: do not put one there)', (t) => {
  const parsed = parse({ connectionString: 'postgres://enot@db.example.com/enot?options=-c%20work_mem%3D64MB', options: '-c search_path="enot"' });
  t.is(parsed.options, '-c work_mem=64MB');
});
