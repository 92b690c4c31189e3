// `enot-id role ...`: roles and the permissions they grant, through the admin
// API (server/admin/roles/routes.ts). A permission is a resource's scope.
import { parseArgs } from 'node:util';
import { AppError } from '../../errors/index.ts';
import type { AdminCaller } from '../../admin/local.ts';
import { list, parsing, required, UsageError, type Command, type Output } from '../args.ts';
import { fields, listing } from '../output.ts';

type Permission = { resource: string; scope: string };
type Role = Record<string, unknown> & { name: string; description: string; is_default: boolean; permissions: Permission[] };

const grants = (role: Role) => role.permissions.map((p) => `${p.resource} ${p.scope}`);
const roleOutput = (role: Role, headline?: string): Output => ({
  json: role,
  text: [...(headline ? [headline] : []), fields({ ...role, permissions: grants(role) }, ['name', 'description', 'is_default', 'permissions'])].join('\n'),
});

/** The API's "no role has this name", with the name the operator typed. */
async function forRole<T>(name: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof AppError && err.status === 404 && err.code === 'not_found' && /role/.test(err.description)) throw new AppError(404, 'not_found', `no role "${name}"`);
    throw err;
  }
}

function oneName(command: string, positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError(`${command} takes exactly one role name`);
  return positionals[0]!;
}

export const roleList: Command = {
  name: 'role list', synopsis: '', summary: 'every role with what it grants', admin: true,
  parse(args) {
    parsing(() => parseArgs({ args, options: {} }));
    return async ({ admin }) => {
      const { items } = (await (await admin())({ method: 'get', path: '/roles' })) as { items: Role[] };
      const rows = items.map((r) => ({ ...r, default: r.is_default ? 'default' : '', grants: grants(r) }));
      return { json: { roles: items }, text: listing(rows, ['name', 'default', 'description', 'grants'], 'no roles') };
    };
  },
};

export const roleShow: Command = {
  name: 'role show', synopsis: '<name>', summary: 'one role', admin: true,
  parse(args) {
    const name = oneName('role show', parsing(() => parseArgs({ args, options: {}, allowPositionals: true })).positionals);
    return async ({ admin }) => roleOutput((await forRole(name, async () => (await admin())({ method: 'get', path: '/roles/:name', params: { name } }))) as Role);
  },
};

export const roleCreate: Command = {
  name: 'role create', synopsis: '<name> [--description D]', summary: 'create a role (lower-case letters, digits, _ : . -)', admin: true,
  parse(args) {
    const { values, positionals } = parsing(() => parseArgs({ args, options: { description: { type: 'string' } }, allowPositionals: true }));
    const name = oneName('role create', positionals);
    return async ({ admin }) =>
      roleOutput((await (await admin())({ method: 'post', path: '/roles', body: { name, ...(values.description !== undefined ? { description: values.description } : {}) } })) as Role, `created role ${name}`);
  },
};

export const roleUpdate: Command = {
  name: 'role update', synopsis: '<name> --description D', summary: 'change a role\'s description', admin: true,
  parse(args) {
    const { values, positionals } = parsing(() => parseArgs({ args, options: { description: { type: 'string' } }, allowPositionals: true }));
    const name = oneName('role update', positionals);
    const description = required(values.description, 'description');
    return async ({ admin }) =>
      roleOutput((await forRole(name, async () => (await admin())({ method: 'patch', path: '/roles/:name', params: { name }, body: { description } }))) as Role, `updated role ${name}`);
  },
};

export const roleDelete: Command = {
  name: 'role delete', synopsis: '<name>', summary: 'delete a role; its holders lose it (not the role admin)', admin: true,
  parse(args) {
    const name = oneName('role delete', parsing(() => parseArgs({ args, options: {}, allowPositionals: true })).positionals);
    return async ({ admin }) => {
      await forRole(name, async () => (await admin())({ method: 'delete', path: '/roles/:name', params: { name } }));
      return { json: { deleted: name }, text: `deleted role ${name}` };
    };
  },
};

/** `role grant|revoke <name> --resource R --scope S ...`: what the role grants, read and replaced. */
function permissionsChange(verb: 'grant' | 'revoke'): Command {
  const command = `role ${verb}`;
  return {
    name: command, synopsis: '<name> --resource R --scope S ...', admin: true,
    summary: verb === 'grant'
      ? 'let a role grant scopes of a resource (each must be one of its permissions); applies to the next token'
      : 'stop a role granting scopes of a resource; applies to the next token',
    parse(args) {
      const { values, positionals } = parsing(() =>
        parseArgs({ args, options: { resource: { type: 'string' }, scope: { type: 'string', multiple: true } }, allowPositionals: true }),
      );
      const name = oneName(command, positionals);
      const resource = required(values.resource, 'resource');
      const scopes = [...new Set(list(values.scope).flatMap((s) => s.split(' ')).filter(Boolean))];
      if (!scopes.length) throw new UsageError('--scope is required');
      return async ({ admin }) => {
        const caller: AdminCaller = await admin();
        const role = (await forRole(name, () => caller({ method: 'get', path: '/roles/:name', params: { name } }))) as Role;
        const others = role.permissions.filter((p) => !(p.resource === resource && scopes.includes(p.scope)));
        const permissions = verb === 'grant' ? [...others, ...scopes.map((scope) => ({ resource, scope }))] : others;
        const updated = (await caller({ method: 'put', path: '/roles/:name/permissions', params: { name }, body: { permissions } })) as Role;
        return roleOutput(updated, `role ${name} grants: ${grants(updated).join('; ') || '(nothing)'}`);
      };
    },
  };
}

export const roleCommands = [roleList, roleShow, roleCreate, roleUpdate, roleDelete, permissionsChange('grant'), permissionsChange('revoke')];
