// Known devices are forgotten once their cookie has expired (a year after the last
// sign-in from them): the table does not grow for ever, and a device seen within the
// year is kept (its failures still count apart from strangers', NIST SP 800-63B §5.2.2).
import test from 'ava';
import { createHash } from 'node:crypto';
import { testEnvironment } from './helpers/environment.ts';
import { loadConfig } from '../server/config/index.ts';
import { openRuntime } from '../server/runtime.ts';
import { createAccount } from '../server/accounts/create-account.ts';
import { isKnown, purgeKnownDevices, remember } from '../server/devices/known-devices.ts';
import { DEVICE_COOKIE_LIFETIME_MS } from '../server/devices/device-cookie.ts';

const DAY_MS = 24 * 3600 * 1000;

test('devices not seen for longer than the cookie lives are purged; the others are kept', async (t) => {
  const environment = await testEnvironment();
  const runtime = await openRuntime(loadConfig(environment.env));
  t.teardown(async () => {
    await runtime.close();
    await environment.cleanup();
  });
  const db = runtime.db;
  const id = await createAccount(db, { email: 'devices@example.com' });
  const lastSeen: Record<string, number> = {
    'stale-device-000000000': Date.now() - DEVICE_COOKIE_LIFETIME_MS - DAY_MS,
    'recent-device-00000000': Date.now() - DEVICE_COOKIE_LIFETIME_MS + DAY_MS,
    'today-device-000000000': Date.now(),
  };
  for (const [device, at] of Object.entries(lastSeen)) {
    await remember(db, id, device, 'Firefox');
    // Only the hash of the cookie's id is stored (server/devices/known-devices.ts).
    const hash = createHash('sha256').update(device).digest('base64url');
    t.is(await db('known_devices').where({ account_id: id, device_hash: hash }).update({ last_seen: new Date(at) }), 1);
  }
  for (const device of Object.keys(lastSeen)) t.true(await isKnown(db, id, device), `${device} known before the purge`);

  t.is(await purgeKnownDevices(db), 1);
  t.false(await isKnown(db, id, 'stale-device-000000000'), 'its cookie expired: forgotten');
  t.true(await isKnown(db, id, 'recent-device-00000000'), 'seen within the cookie’s year: kept');
  t.true(await isKnown(db, id, 'today-device-000000000'));
  t.is(await purgeKnownDevices(db), 0, 'nothing more to purge');
});
