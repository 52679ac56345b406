// Drives the roomcast Stream emulator with Cloudflare's official TS SDK.
// Env: ROOMCAST_EMULATOR_URL (…/client/v4), ROOMCAST_EMULATOR_ACCOUNT,
// ROOMCAST_EMULATOR_TOKEN. Run through ./run.sh <emulator-binary>.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Cloudflare from 'cloudflare';

const baseURL = process.env.ROOMCAST_EMULATOR_URL;
const account_id = process.env.ROOMCAST_EMULATOR_ACCOUNT;
const apiToken = process.env.ROOMCAST_EMULATOR_TOKEN;
if (!baseURL || !account_id || !apiToken) {
  throw new Error('set ROOMCAST_EMULATOR_URL, ROOMCAST_EMULATOR_ACCOUNT and ROOMCAST_EMULATOR_TOKEN');
}

// maxRetries: 0 so that an unexpected 5xx/429 fails loudly instead of being hidden.
const cf = new Cloudflare({ apiToken, baseURL, maxRetries: 0 });
const HEX32 = /^[0-9a-f]{32}$/;

async function rejectsWith(promise, ErrorClass, status, code) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof ErrorClass, `expected ${ErrorClass.name}, got ${err}`);
    assert.equal(err.status, status);
    assert.equal(err.errors[0].code, code);
    return true;
  });
}

test('create returns a full live input with credentials', async () => {
  const li = await cf.stream.liveInputs.create({
    account_id,
    meta: { name: 'sdk-room-1' },
    recording: { mode: 'automatic', timeoutSeconds: 10 },
    deleteRecordingAfterDays: 45,
    defaultCreator: 'user_42',
    enabled: true,
  });
  assert.match(li.uid, HEX32);
  assert.deepEqual(li.meta, { name: 'sdk-room-1' });
  assert.equal(li.enabled, true);
  assert.equal(li.deleteRecordingAfterDays, 45);
  assert.equal(li.recording.mode, 'automatic');
  assert.equal(li.recording.timeoutSeconds, 10);
  assert.equal(li.status, null);
  assert.equal(li.rtmps.url, process.env.ROOMCAST_EMULATOR_INGEST);
  assert.ok(li.rtmps.streamKey.endsWith(`k${li.uid}`));
  assert.equal(li.srt.url, process.env.ROOMCAST_EMULATOR_SRT);
  assert.equal(li.srt.streamId, li.uid);
  if (li.rtmps.url.startsWith('rtmp://')) {
    // Real video on this machine: pull playback (Cloudflare's alone) is absent; WHIP/WHEP are
    // the emulator's own endpoints.
    assert.equal(li.srtPlayback ?? null, null);
    assert.match(li.webRTC.url, /^http:\/\/127\.0\.0\.1:[0-9]+\/[0-9a-f]{32}k[0-9a-f]{32}\/webRTC\/publish$/);
    assert.match(li.webRTCPlayback.url, new RegExp(`^http://127\\.0\\.0\\.1:[0-9]+/${li.uid}/webRTC/play$`));
  } else {
    assert.equal(li.srtPlayback.streamId, `play${li.uid}`);
    assert.match(li.webRTC.url, /^https:\/\/customer-[a-z0-9]+\.cloudflarestream\.com\/[0-9a-f]{32}k[0-9a-f]{32}\/webRTC\/publish$/);
    assert.match(li.webRTCPlayback.url, new RegExp(`/${li.uid}/webRTC/play$`));
  }
});

test('get returns the same input; list carries no credentials', async () => {
  const created = await cf.stream.liveInputs.create({ account_id, meta: { name: 'sdk-room-2' } });
  const got = await cf.stream.liveInputs.get(created.uid, { account_id });
  assert.equal(got.uid, created.uid);
  assert.equal(got.rtmps.streamKey, created.rtmps.streamKey);
  assert.equal(got.recording.mode, 'off');

  const list = await cf.stream.liveInputs.list({ account_id, include_counts: true });
  const item = list.liveInputs.find((i) => i.uid === created.uid);
  assert.ok(item, 'created input is listed');
  assert.deepEqual(item.meta, { name: 'sdk-room-2' });
  assert.equal(item.enabled, true);
  assert.equal('rtmps' in item, false);
  assert.equal('srt' in item, false);
  assert.equal('webRTC' in item, false);
  assert.equal(list.total, list.liveInputs.length);
});

test('update changes only the given fields', async () => {
  const created = await cf.stream.liveInputs.create({
    account_id,
    meta: { name: 'before' },
    deleteRecordingAfterDays: 30,
  });
  const updated = await cf.stream.liveInputs.update(created.uid, {
    account_id,
    meta: { name: 'after' },
    enabled: false,
  });
  assert.equal(updated.uid, created.uid);
  assert.deepEqual(updated.meta, { name: 'after' });
  assert.equal(updated.enabled, false);
  assert.equal(updated.deleteRecordingAfterDays, 30);
  assert.equal(updated.rtmps.streamKey, created.rtmps.streamKey);
});

test('validation error surfaces as BadRequestError with Cloudflare errors[]', async () => {
  await rejectsWith(
    cf.stream.liveInputs.create({ account_id, deleteRecordingAfterDays: 10 }),
    Cloudflare.BadRequestError,
    400,
    10005,
  );
});

test('delete makes the input inaccessible', async () => {
  const created = await cf.stream.liveInputs.create({ account_id });
  await cf.stream.liveInputs.delete(created.uid, { account_id });
  await rejectsWith(
    cf.stream.liveInputs.get(created.uid, { account_id }),
    Cloudflare.NotFoundError,
    404,
    10003,
  );
  await rejectsWith(
    cf.stream.liveInputs.delete(created.uid, { account_id }),
    Cloudflare.NotFoundError,
    404,
    10003,
  );
});

test('a wrong token is refused with 403', async () => {
  const bad = new Cloudflare({ apiToken: 'not-the-token', baseURL, maxRetries: 0 });
  await rejectsWith(
    bad.stream.liveInputs.list({ account_id }),
    Cloudflare.PermissionDeniedError,
    403,
    10000,
  );
});

// Issue 21: the signing keys API (signed URLs) through the official SDK.
test('signing keys: created with pem and jwk shown once, listed without them, revoked', async () => {
  const key = await cf.stream.keys.create({ account_id, body: {} });
  assert.match(key.id, HEX32);
  assert.ok(Buffer.from(key.pem, 'base64').toString().startsWith('-----BEGIN RSA PRIVATE KEY-----'));
  const jwk = JSON.parse(Buffer.from(key.jwk, 'base64').toString());
  assert.equal(jwk.kid, key.id);
  assert.equal(jwk.alg, 'RS256');
  const listed = [];
  for await (const k of cf.stream.keys.get({ account_id })) listed.push(k);
  const mine = listed.find((k) => k.id === key.id);
  assert.ok(mine, 'the new key is listed');
  assert.equal(mine.pem, undefined);
  assert.equal(mine.jwk, undefined);
  assert.equal(await cf.stream.keys.delete(key.id, { account_id }), 'Revoked');
  const after = [];
  for await (const k of cf.stream.keys.get({ account_id })) after.push(k.id);
  assert.ok(!after.includes(key.id), 'revoked keys are gone');
  await rejectsWith(cf.stream.keys.delete(key.id, { account_id }), Cloudflare.NotFoundError, 404, 10003);
});
