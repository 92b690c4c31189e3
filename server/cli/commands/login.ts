// `enot-id login --device`: the device authorization grant (RFC 8628) from a
// terminal, as `gh auth login` does: a QR and a code on stderr, polling at the
// server's interval (backing off on slow_down), tokens on stdout.
import { parseArgs } from 'node:util';
import QRCode from 'qrcode';
import { parsing, required, type Command } from '../args.ts';
import { AppError } from '../../errors/index.ts';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

interface DeviceAuthorization {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete?: string;
  expires_in: number;
  interval?: number;
}

class DeviceLoginFailed extends AppError {
  constructor(code: string, description: string) {
    super(400, code, description);
  }
}

async function postForm(url: string, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(form),
  });
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  return { status: response.status, body };
}

const sleep = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

export const login: Command = {
  name: 'login',
  synopsis: '--device --client-id ID [--scope S] [--resource R] [--issuer URL]',
  summary: 'sign in from this terminal with the device flow (RFC 8628): shows a QR and a code, prints the tokens',
  storage: false,
  parse(args) {
    const { values } = parsing(() =>
      parseArgs({
        args,
        options: {
          device: { type: 'boolean' },
          'client-id': { type: 'string' },
          scope: { type: 'string', default: 'openid offline_access' },
          resource: { type: 'string' },
          issuer: { type: 'string' },
        },
      }),
    );
    if (!values.device) throw new DeviceLoginFailed('invalid_request', 'only --device login is supported');
    const clientId = required(values['client-id'], 'client-id');
    return async ({ config }) => {
      const issuer = (values.issuer ?? config.issuer).replace(/\/+$/, '');
      const discovery = await fetch(`${issuer}/.well-known/openid-configuration`).then(
        (r) => (r.ok ? (r.json() as Promise<Record<string, string>>) : Promise.reject(new Error(`discovery answered ${r.status}`))),
      );
      const started = await postForm(discovery.device_authorization_endpoint!, {
        client_id: clientId,
        scope: values.scope!,
        ...(values.resource ? { resource: values.resource } : {}),
      });
      if (started.status !== 200) {
        throw new DeviceLoginFailed(String(started.body.error ?? 'invalid_request'), String(started.body.error_description ?? 'the device authorization request failed'));
      }
      const device = started.body as unknown as DeviceAuthorization;
      const link = device.verification_uri_complete ?? device.verification_uri;
      process.stderr.write(`${await QRCode.toString(link, { type: 'terminal', small: true })}\n`);
      process.stderr.write(`Scan the code, or open ${device.verification_uri} and enter ${device.user_code}\n`);
      process.stderr.write(`user_code: ${device.user_code}\nverification_uri_complete: ${link}\n`);

      // RFC 8628 §3.5: wait `interval` (5 s by default) between polls; slow_down adds 5 s.
      let interval = device.interval ?? 5;
      const deadline = Date.now() + device.expires_in * 1000;
      while (Date.now() < deadline) {
        await sleep(interval);
        const polled = await postForm(discovery.token_endpoint!, { grant_type: DEVICE_GRANT, device_code: device.device_code, client_id: clientId });
        if (polled.status === 200) {
          const tokens = polled.body;
          return {
            json: tokens,
            text: [
              `signed in; the access token expires in ${String(tokens.expires_in)} s`,
              `access_token: ${String(tokens.access_token)}`,
              ...(tokens.refresh_token ? [`refresh_token: ${String(tokens.refresh_token)}`] : []),
              ...(tokens.id_token ? [`id_token: ${String(tokens.id_token)}`] : []),
            ].join('\n'),
          };
        }
        const error = String(polled.body.error ?? '');
        if (error === 'authorization_pending') continue;
        if (error === 'slow_down') {
          interval += 5;
          continue;
        }
        if (error === 'access_denied') throw new DeviceLoginFailed('access_denied', 'the sign-in was denied on the other device');
        if (error === 'expired_token') break;
        throw new DeviceLoginFailed(error || 'server_error', String(polled.body.error_description ?? `the token endpoint answered ${polled.status}`));
      }
      throw new DeviceLoginFailed('expired_token', 'the code expired before anyone signed in; run the command again');
    };
  },
};
