// `enot-id resource ...`: API resources (RFC 8707) and their permissions
// (scopes), through the admin API (server/admin/resources/routes.ts).
import { parseArgs } from 'node:util';
import { AppError } from '../../errors/index.ts';
import { list, parsing, UsageError, wholeNumber, type Command, type Output } from '../args.ts';
import { columns, fields, listing } from '../output.ts';

type Resource = Record<string, unknown> & { identifier: string; scopes: string[]; permissions: { scope: string; description: string }[] };

const RESOURCE_FIELDS = ['identifier', 'name', 'access_token_format', 'access_token_ttl', 'scopes', 'configured'];
/** The resource's fields, then each permission with what it allows. */
const resourceOutput = (resource: Resource, headline?: string): Output => ({
  json: resource,
  text: [
    ...(headline ? [headline] : []),
    fields(resource, RESOURCE_FIELDS),
    ...(resource.permissions.some((p) => p.description) ? ['permissions:', columns(resource.permissions.map((p) => ['', p.scope, p.description || '-']))] : []),
  ].join('\n'),
});

async function forResource<T>(identifier: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof AppError && err.status === 404 && /no resource/.test(err.description)) throw new AppError(404, 'not_found', `no resource "${identifier}"`);
    throw err;
  }
}

function identifierOf(command: string, positionals: string[], count = 1): string[] {
  if (positionals.length !== count) throw new UsageError(`${command} takes ${count === 1 ? 'a resource identifier' : 'a resource identifier and a scope'}`);
  return positionals;
}

const FORMAT_TTL = { format: { type: 'string' }, ttl: { type: 'string' }, name: { type: 'string' } } as const;

function formatAndTtl(values: { format?: string; ttl?: string }) {
  if (values.format !== undefined && !['jwt', 'opaque'].includes(values.format)) throw new UsageError(`--format must be jwt or opaque, got "${values.format}"`);
  return {
    ...(values.format !== undefined ? { access_token_format: values.format } : {}),
    // `--ttl default`: the resource's tokens live ACCESS_TOKEN_TTL.
    ...(values.ttl !== undefined ? { access_token_ttl: values.ttl === 'default' ? null : wholeNumber(values.ttl, 'ttl', 60, 86_400) } : {}),
  };
}

export const resourceList: Command = {
  name: 'resource list', synopsis: '', summary: 'every API resource with its scopes', admin: true,
  parse(args) {
    parsing(() => parseArgs({ args, options: {} }));
    return async ({ admin }) => {
      const { items } = (await (await admin())({ method: 'get', path: '/resources' })) as { items: Resource[] };
      return { json: { resources: items }, text: listing(items, ['identifier', 'access_token_format', 'name', 'scopes'], 'no resources') };
    };
  },
};

export const resourceShow: Command = {
  name: 'resource show', synopsis: '<identifier>', summary: 'one API resource', admin: true,
  parse(args) {
    const [identifier] = identifierOf('resource show', parsing(() => parseArgs({ args, options: {}, allowPositionals: true })).positionals);
    return async ({ admin }) =>
      resourceOutput((await forResource(identifier!, async () => (await admin())({ method: 'get', path: '/resources/:identifier', params: { identifier: identifier! } }))) as Resource);
  },
};

export const resourceCreate: Command = {
  name: 'resource create', synopsis: '<identifier> [--name N] [--format jwt|opaque] [--ttl SECONDS] [--scope S ...]',
  summary: 'create an API resource (an absolute URI, RFC 8707) with its permissions', admin: true,
  parse(args) {
    const { values, positionals } = parsing(() => parseArgs({ args, options: { ...FORMAT_TTL, scope: { type: 'string', multiple: true } }, allowPositionals: true }));
    const [identifier] = identifierOf('resource create', positionals);
    const body = { identifier, ...(values.name !== undefined ? { name: values.name } : {}), ...formatAndTtl(values), scopes: [...new Set(list(values.scope))] };
    return async ({ admin }) => resourceOutput((await (await admin())({ method: 'post', path: '/resources', body })) as Resource, `created resource ${identifier}`);
  },
};

export const resourceUpdate: Command = {
  name: 'resource update', synopsis: '<identifier> [--name N] [--format jwt|opaque] [--ttl SECONDS | --ttl default]',
  summary: 'change a resource\'s name, token format or token lifetime', admin: true,
  parse(args) {
    const { values, positionals } = parsing(() => parseArgs({ args, options: FORMAT_TTL, allowPositionals: true }));
    const [identifier] = identifierOf('resource update', positionals);
    const body = { ...(values.name !== undefined ? { name: values.name } : {}), ...formatAndTtl(values) };
    if (!Object.keys(body).length) throw new UsageError('nothing to change: give --name, --format or --ttl');
    return async ({ admin }) =>
      resourceOutput((await forResource(identifier!, async () => (await admin())({ method: 'patch', path: '/resources/:identifier', params: { identifier: identifier! }, body }))) as Resource, `updated resource ${identifier}`);
  },
};

export const resourceDelete: Command = {
  name: 'resource delete', synopsis: '<identifier>', summary: 'delete a resource, its permissions and every grant of them', admin: true,
  parse(args) {
    const [identifier] = identifierOf('resource delete', parsing(() => parseArgs({ args, options: {}, allowPositionals: true })).positionals);
    return async ({ admin }) => {
      await forResource(identifier!, async () => (await admin())({ method: 'delete', path: '/resources/:identifier', params: { identifier: identifier! } }));
      return { json: { deleted: identifier }, text: `deleted resource ${identifier}` };
    };
  },
};

export const permissionAdd: Command = {
  name: 'resource permission add', synopsis: '<identifier> <scope> [--description D]', summary: 'add a permission (scope) to a resource', admin: true,
  parse(args) {
    const { values, positionals } = parsing(() => parseArgs({ args, options: { description: { type: 'string' } }, allowPositionals: true }));
    const [identifier, scope] = identifierOf('resource permission add', positionals, 2);
    return async ({ admin }) =>
      resourceOutput((await forResource(identifier!, async () => (await admin())({
        method: 'post', path: '/resources/:identifier/permissions', params: { identifier: identifier! },
        body: { scope, ...(values.description !== undefined ? { description: values.description } : {}) },
      }))) as Resource, `added ${scope} to ${identifier}`);
  },
};

export const permissionUpdate: Command = {
  name: 'resource permission update', synopsis: '<identifier> <scope> --description D', summary: 'change what a permission says it allows', admin: true,
  parse(args) {
    const { values, positionals } = parsing(() => parseArgs({ args, options: { description: { type: 'string' } }, allowPositionals: true }));
    const [identifier, scope] = identifierOf('resource permission update', positionals, 2);
    if (values.description === undefined) throw new UsageError('nothing to change: give --description');
    return async ({ admin }) =>
      resourceOutput((await forResource(identifier!, async () => (await admin())({
        method: 'patch', path: '/resources/:identifier/permissions/:scope', params: { identifier: identifier!, scope: scope! },
        body: { description: values.description },
      }))) as Resource, `updated ${scope} of ${identifier}`);
  },
};

export const permissionRemove: Command = {
  name: 'resource permission remove', synopsis: '<identifier> <scope>', summary: 'remove a permission; roles stop granting it', admin: true,
  parse(args) {
    const [identifier, scope] = identifierOf('resource permission remove', parsing(() => parseArgs({ args, options: {}, allowPositionals: true })).positionals, 2);
    return async ({ admin }) => {
      await (await admin())({ method: 'delete', path: '/resources/:identifier/permissions/:scope', params: { identifier: identifier!, scope: scope! } });
      return { json: { removed: { resource: identifier, scope } }, text: `removed ${scope} from ${identifier}` };
    };
  },
};

export const resourceCommands = [resourceList, resourceShow, resourceCreate, resourceUpdate, resourceDelete, permissionAdd, permissionUpdate, permissionRemove];
