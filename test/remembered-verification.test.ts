// Verified JWT access tokens are remembered until they expire, never longer.
import test from 'ava';
import { generateKeyPair, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { rememberVerified } from '../server/oidc/remembered-verification.ts';

async function signer() {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const sign = (claims: JWTPayload, exp: number) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' }).setIssuedAt().setExpirationTime(exp).sign(privateKey);
  let verifications = 0;
  const verify = async (token: string) => {
    verifications += 1;
    try {
      return (await jwtVerify(token, publicKey, { typ: 'at+jwt' })).payload;
    } catch {
      return undefined;
    }
  };
  return { sign, verify, verifications: () => verifications };
}

test('a verified token is verified once, then remembered until its exp', async (t) => {
  const { sign, verify, verifications } = await signer();
  let now = Math.floor(Date.now() / 1000);
  const verified = rememberVerified(verify, { nowSeconds: () => now });
  const token = await sign({ jti: 'a' }, now + 60);

  t.is((await verified(token))?.jti, 'a');
  t.is((await verified(token))?.jti, 'a');
  t.is(verifications(), 1, 'the second answer came from memory');

  now += 61;
  await verified(token);
  t.is(verifications(), 2, 'past its exp the token is checked again (and jose, on the real clock, decides)');
});

test('forged and failed tokens are never remembered; the memory is bounded', async (t) => {
  const { sign, verify, verifications } = await signer();
  const other = await signer();
  const now = Math.floor(Date.now() / 1000);
  const verified = rememberVerified(verify, { max: 2 });

  const forged = await other.sign({ jti: 'forged' }, now + 60);
  t.is(await verified(forged), undefined);
  t.is(await verified(forged), undefined);
  t.is(verifications(), 2, 'a failure is checked every time');

  const tokens = await Promise.all(['1', '2', '3'].map((jti) => sign({ jti }, now + 60)));
  for (const token of tokens) await verified(token);
  t.is(verifications(), 5);
  await verified(tokens[2]!);
  await verified(tokens[1]!);
  t.is(verifications(), 5, 'the two newest are remembered');
  await verified(tokens[0]!);
  t.is(verifications(), 6, 'the oldest was let go');
});

test('remembered claims cannot be changed by a caller', async (t) => {
  const { sign, verify } = await signer();
  const verified = rememberVerified(verify);
  const token = await sign({ jti: 'a', scope: 'api:read' }, Math.floor(Date.now() / 1000) + 60);
  const claims = (await verified(token))!;
  t.throws(() => {
    claims.scope = 'api:admin';
  }, { instanceOf: TypeError });
  t.is((await verified(token))?.scope, 'api:read');
});
