// `enot-id mailing ...`: mailings for operators without the API (issue 13 §3),
// through the admin API (server/admin/mailings/routes.ts) like every command.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { list, parsing, required, UsageError, type Command, type Output } from '../args.ts';
import { fields } from '../output.ts';

type Mailing = Record<string, unknown> & { id: string; name: string; status: string; progress: Record<string, number> };

const mailingOutput = (mailing: Mailing, headline?: string): Output => ({
  json: mailing,
  text: [...(headline ? [headline] : []),
    fields({ ...mailing, progress: Object.entries(mailing.progress).map(([state, n]) => `${state} ${n}`).join(', ') }, ['id', 'name', 'status', 'created_at', 'started_at', 'progress'])].join('\n'),
});

function oneId(command: string, positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError(`${command} takes exactly one mailing id`);
  return positionals[0]!;
}

/** A file's text, or the operator's words for why it cannot be read. */
function fileText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

const LANGUAGES = ['en', 'ru'] as const;
const perLanguage = Object.fromEntries(LANGUAGES.flatMap((l) => ['subject', 'text', 'html', 'text-file', 'html-file'].map((f) => [`${f}-${l}`, { type: 'string' as const }])));

export const mailingCreate: Command = {
  name: 'mailing create',
  synopsis: '--name N (--templates FILE.json | --subject-en S (--text-en T | --text-file-en F) [--html-en H | --html-file-en F] [... -ru]) (--account ID ... | [--role R] [--created-from T] [--created-to T] [--language en|ru])',
  summary: 'create a mailing (a draft): texts per language ({{email}}, {{phone}}, {{id}}) and its audience; accounts need a confirmed email',
  admin: true,
  parse(args) {
    const { values } = parsing(() => parseArgs({
      args,
      options: {
        name: { type: 'string' }, templates: { type: 'string' }, ...perLanguage,
        account: { type: 'string', multiple: true }, role: { type: 'string' }, 'created-from': { type: 'string' }, 'created-to': { type: 'string' }, language: { type: 'string' },
      },
    }));
    const option = (name: string) => (values as Record<string, string | undefined>)[name];
    const name = required(values.name, 'name');
    let templates: unknown;
    if (values.templates !== undefined) {
      try {
        templates = JSON.parse(fileText(values.templates));
      } catch (err) {
        if (err instanceof UsageError) throw err;
        throw new UsageError(`${values.templates} is not JSON: ${(err as Error).message}`);
      }
    } else {
      const given = LANGUAGES.filter((l) => ['subject', 'text', 'html', 'text-file', 'html-file'].some((f) => option(`${f}-${l}`) !== undefined));
      if (!given.includes('en')) throw new UsageError('--subject-en and --text-en (or --text-file-en) are required: English is every language\'s fallback');
      templates = Object.fromEntries(given.map((l) => {
        const text = option(`text-file-${l}`) !== undefined ? fileText(option(`text-file-${l}`)!) : option(`text-${l}`);
        const html = option(`html-file-${l}`) !== undefined ? fileText(option(`html-file-${l}`)!) : option(`html-${l}`);
        return [l, { subject: required(option(`subject-${l}`), `subject-${l}`), text: required(text, `text-${l}`), ...(html !== undefined ? { html } : {}) }];
      }));
    }
    const accounts = list(values.account);
    const filter = {
      ...(values.role !== undefined ? { role: values.role } : {}),
      ...(values['created-from'] !== undefined ? { created_from: values['created-from'] } : {}),
      ...(values['created-to'] !== undefined ? { created_to: values['created-to'] } : {}),
      ...(values.language !== undefined ? { language: values.language } : {}),
    };
    if (accounts.length && Object.keys(filter).length) throw new UsageError('--account names the audience alone: no --role, --created-from, --created-to or --language with it');
    const audience = accounts.length ? { account_ids: accounts } : filter;
    return async ({ admin }) => {
      const created = (await (await admin())({ method: 'post', path: '/mailings', body: { name, templates, audience } })) as Mailing;
      return mailingOutput(created, `created mailing ${created.id} (a draft: \`mailing start ${created.id}\` sends it)`);
    };
  },
};

export const mailingStatus: Command = {
  name: 'mailing status', synopsis: '<id>', summary: 'a mailing and its progress: recipients queued, being sent, sent, failed, skipped', admin: true,
  parse(args) {
    const id = oneId('mailing status', parsing(() => parseArgs({ args, options: {}, allowPositionals: true })).positionals);
    return async ({ admin }) => mailingOutput((await (await admin())({ method: 'get', path: '/mailings/:id', params: { id } })) as Mailing);
  },
};

function mailingAction(verb: 'start' | 'pause' | 'resume' | 'cancel', summary: string, done: string): Command {
  return {
    name: `mailing ${verb}`, synopsis: '<id>', summary, admin: true,
    parse(args) {
      const id = oneId(`mailing ${verb}`, parsing(() => parseArgs({ args, options: {}, allowPositionals: true })).positionals);
      return async ({ admin }) => mailingOutput((await (await admin())({ method: 'post', path: `/mailings/:id/${verb}`, params: { id } })) as Mailing, `${done} mailing ${id}`);
    },
  };
}

export const mailingCommands = [
  mailingCreate,
  mailingAction('start', 'start sending a draft: its audience is fixed now, each recipient once, at MAILING_RATE', 'started'),
  mailingStatus,
  mailingAction('pause', 'pause a running mailing (a message being sent finishes)', 'paused'),
  mailingAction('resume', 'resume a paused mailing', 'resumed'),
  mailingAction('cancel', 'cancel a mailing: recipients not yet sent are skipped', 'cancelled'),
];
