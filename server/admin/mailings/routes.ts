// /api/admin/mailings (issue 13 §3): create a mailing, preview it for one account,
// start, pause, resume, cancel, and read its progress: counts per state, and each
// recipient's state with the reason it was skipped or failed.
import { z } from 'zod';
import type { Knex } from 'knex';
import { Conflict, InvalidRequest, NotFound } from '../../errors/index.ts';
import { findAccountById } from '../../accounts/queries.ts';
import type { JobQueue } from '../../jobs/queue.ts';
import {
  RECIPIENT_STATES, audienceSchema, cancelMailing, createMailing, findMailing, mailingProgress, mailingRecipients, pauseMailing, resumeMailing, startMailing,
} from '../../mailings/mailings.ts';
import { renderMailing, templatesSchema } from '../../mailings/templates.ts';
import { LOCALES } from '../../i18n/locale.ts';
import { defineRoute, type AnyRoute } from '../guard.ts';
import { page, paging, timestamp, uuidParams } from '../schemas.ts';

const mailingSchema = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(['draft', 'running', 'paused', 'cancelled', 'finished']).describe('finished: started, and every recipient is sent, failed or skipped'),
  created_at: timestamp,
  started_at: timestamp.nullable(),
  progress: z.object({ queued: z.number(), sending: z.number(), sent: z.number(), failed: z.number(), skipped: z.number() }),
});

const recipientSchema = z.object({
  account_id: z.string(),
  state: z.enum(RECIPIENT_STATES),
  reason: z.string().nullable().describe('why skipped (no_confirmed_email, unsubscribed, bounced, cancelled) or failed (smtp_<code>, unreachable)'),
  attempts: z.number().describe('sends tried'),
  updated_at: timestamp,
});

export function mailingRoutes(deps: { db: Knex; jobs: JobQueue }): AnyRoute[] {
  const { db, jobs } = deps;
  async function view(id: string): Promise<z.input<typeof mailingSchema>> {
    const row = await findMailing(db, id);
    if (!row) throw new NotFound('no mailing has this id');
    const progress = await mailingProgress(db, id);
    // Nothing left to send: the stored status stays `running` (a job is not told it was the last).
    const finished = row.status === 'running' && progress.queued + progress.sending === 0;
    return {
      id: row.id, name: row.name, status: finished ? 'finished' : row.status, created_at: new Date(row.created_at).toISOString(),
      started_at: row.started_at ? new Date(row.started_at).toISOString() : null, progress,
    };
  }
  const action = (verb: 'start' | 'pause' | 'resume' | 'cancel', summary: string, allowed: string[], run: (id: string) => Promise<void>) =>
    defineRoute({
      method: 'post', path: `/mailings/:id/${verb}`, operationId: `mailings.${verb}`, summary, tag: 'mailings',
      params: uuidParams, response: mailingSchema, status: 200, errors: [404, 409],
      async handler({ params }) {
        const row = await findMailing(db, params.id);
        if (!row) throw new NotFound('no mailing has this id');
        if (!allowed.includes(row.status)) throw new Conflict(`the mailing is ${row.status}`);
        await run(params.id);
        return view(params.id);
      },
    });
  return [
    defineRoute({
      method: 'post', path: '/mailings', operationId: 'mailings.create', tag: 'mailings',
      // Templates in two languages, HTML included, and up to 1,000 account ids: the app's largest body.
      bodyLimitBytes: 56 * 1024,
      summary: 'Create a mailing: subject, text and HTML per language ({{email}}, {{phone}}, {{id}}; escaped in HTML) and the audience',
      body: z.object({ name: z.string().min(1).max(200), templates: templatesSchema, audience: audienceSchema }),
      response: mailingSchema, status: 201, idempotent: true,
      audit: ({ body }) => ({ name: body.name }),
      async handler({ body }) {
        return view(await createMailing(db, body));
      },
    }),
    defineRoute({
      method: 'get', path: '/mailings/:id', operationId: 'mailings.read', tag: 'mailings',
      summary: 'A mailing and its progress: recipients queued, being sent, sent, failed and skipped',
      params: uuidParams, response: mailingSchema, status: 200, errors: [404],
      async handler({ params }) {
        return view(params.id);
      },
    }),
    defineRoute({
      method: 'get', path: '/mailings/:id/recipients', operationId: 'mailings.recipients', tag: 'mailings',
      summary: 'Each recipient of a started mailing, in account id order: its state, and why it was skipped or failed (no address)',
      params: uuidParams, query: z.object({ state: z.enum(RECIPIENT_STATES).optional().describe('only recipients in this state'), ...paging }),
      response: page(recipientSchema), status: 200, errors: [404],
      async handler({ params, query }) {
        if (!(await findMailing(db, params.id))) throw new NotFound('no mailing has this id');
        // The cursor is the last account id of the previous page (opaque to callers).
        const after = query.cursor && /^[0-9a-f-]{36}$/.test(query.cursor) ? query.cursor : undefined;
        if (query.cursor && !after) throw new InvalidRequest('query.cursor: not a cursor this API gave');
        const rows = await mailingRecipients(db, params.id, { state: query.state, after, limit: query.limit + 1 });
        const items = rows.slice(0, query.limit);
        return {
          items: items.map((row) => ({ ...row, updated_at: new Date(row.updated_at).toISOString() })),
          next_cursor: rows.length > query.limit ? items.at(-1)!.account_id : null,
        };
      },
    }),
    defineRoute({
      method: 'post', path: '/mailings/:id/preview', operationId: 'mailings.preview', tag: 'mailings',
      summary: 'The mailing as one account would get it (nothing is sent)',
      params: uuidParams, body: z.object({ account_id: z.uuid(), language: z.enum(LOCALES).optional().describe('default: the account\'s stored language, else English, as it would be sent') }),
      response: z.object({ subject: z.string(), text: z.string(), html: z.string().nullable() }), status: 200, errors: [404],
      async handler({ params, body }) {
        const mailing = await findMailing(db, params.id);
        if (!mailing) throw new NotFound('no mailing has this id');
        const account = await findAccountById(db, body.account_id);
        if (!account) throw new NotFound('no account has this id');
        const content = renderMailing(mailing.templates, body.language ?? account.locale ?? 'en', { id: account.id, email: account.email, phone: account.phone });
        return { subject: content.subject, text: content.text, html: content.html ?? null };
      },
    }),
    action('start', 'Start sending: the audience is fixed now, each recipient queued once', ['draft'], (id) => startMailing(db, jobs, id)),
    action('pause', 'Pause: recipients not yet sent wait', ['running'], (id) => pauseMailing(db, jobs, id)),
    action('resume', 'Resume a paused mailing', ['paused'], (id) => resumeMailing(db, jobs, id)),
    action('cancel', 'Cancel: recipients not yet sent are skipped', ['draft', 'running', 'paused'], (id) => cancelMailing(db, jobs, id)),
  ];
}
