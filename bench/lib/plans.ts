// EXPLAIN of every SQL statement the server sent on behalf of requests, with the
// bound values it was sent with (bench/lib/count-storage.ts samples them, bench/lib/
// roundtrips.ts collects them), run by the growth part (bench/lib/growth.ts) at each
// level against the same schema. Per statement:
//
// - (a) `EXPLAIN (FORMAT JSON)`: the plan PostgreSQL chooses now, at this size.
// - (b) the same with `SET LOCAL enable_seqscan = off`: whether an index CAN serve
//   it. A table that is not seeded (known_devices, session_devices, …) is small at
//   every level, and on a small table a sequential scan is the right choice, so (a)
//   alone cannot tell a missing index from a small table.
// - SELECTs only: `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`, for the shared buffers
//   one execution touches (hit + read): the work a statement does, counted rather
//   than timed, so it shows growth (a deeper B-tree) without a shared machine's noise.
//   Writes are not run with ANALYZE: it would execute them.
//
// Everything runs in a transaction that is rolled back. pg-boss's own statements
// (the job queue's schema) and statements EXPLAIN does not take (BEGIN, SET …) are
// listed apart, not explained.
import pg from 'pg';
import { jobsSchema } from '../../server/jobs/queue.ts';
import { startupOptions } from '../../server/db/connect.ts';
import type { Scenario, StatementSample } from './roundtrips.ts';

/** Tables whose size follows the number of accounts (oidc_models: tokens and sessions in embedded-like storage). */
export const GROWING_TABLES = ['accounts', 'account_roles', 'oidc_models'];

/** A plan node that reads or writes a table or an index. */
export interface PlanNode {
  /** Node type (`Index Scan`, `Seq Scan`, …), or for a write the operation (`Insert`, `Update`, `Delete`). */
  node: string;
  relation?: string;
  index?: string;
  /** An index scan with no Index Cond reads the whole index: no lookup (enable_seqscan = off can make one). */
  wholeIndex?: true;
}

export interface StatementPlan {
  text: string;
  scenarios: Scenario[];
  kind: 'read' | 'write';
  /** (a) as PostgreSQL plans it now. */
  chosen: PlanNode[];
  /** (b) with enable_seqscan = off. */
  forced: PlanNode[];
  /** Reads: shared buffers of one execution (EXPLAIN ANALYZE, BUFFERS), from the plan's top node. */
  buffers?: { hit: number; read: number };
  /** Why it does not count as index lookups; empty when it does. */
  flags: string[];
  /** EXPLAIN failed (the statement was not checked). */
  error?: string;
}

export interface LevelPlans {
  statements: StatementPlan[];
  /** Sent, not explained: pg-boss's job queue (its own schema; background work the request hands off). */
  queue: string[];
  /** Sent, not explainable: transaction control, SET and the like. */
  utility: string[];
}

interface ExplainNode {
  'Node Type': string;
  Operation?: string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  'Conflict Arbiter Indexes'?: string[];
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: ExplainNode[];
}

/** The nodes of a plan tree that touch a table or an index, depth first. */
export function planNodes(plan: ExplainNode): PlanNode[] {
  const own: PlanNode[] = [];
  if (plan['Node Type'] === 'ModifyTable') {
    const arbiters = plan['Conflict Arbiter Indexes'];
    own.push({ node: plan.Operation ?? 'ModifyTable', relation: plan['Relation Name'], ...(arbiters?.length && { index: arbiters.join(',') }) });
  } else if (plan['Relation Name'] || plan['Index Name']) {
    const node: PlanNode = { node: plan['Node Type'], relation: plan['Relation Name'], index: plan['Index Name'] };
    if (/^Index (Only )?Scan$/.test(node.node) && !plan['Index Cond']) node.wholeIndex = true;
    own.push(node);
  }
  return [...own, ...(plan.Plans ?? []).flatMap(planNodes)];
}

/** What EXPLAIN takes: reads and writes; undefined for the rest (BEGIN, SET, …). */
function kindOf(text: string): StatementPlan['kind'] | undefined {
  const first = /^\s*(\w+)/.exec(text)?.[1]?.toLowerCase();
  if (first === 'insert' || first === 'update' || first === 'delete' || first === 'merge') return 'write';
  if (first === 'with') return /\b(insert|update|delete|merge)\b/i.test(text) ? 'write' : 'read';
  if (first === 'select' || first === 'values' || first === 'table') return 'read';
  return undefined;
}

function flagsOf(plan: Pick<StatementPlan, 'chosen' | 'forced'>, seeded: boolean): string[] {
  const flags: string[] = [];
  for (const n of plan.forced) {
    if (n.node === 'Seq Scan') flags.push(`no index serves it: Seq Scan on ${n.relation} with enable_seqscan = off`);
    if (n.wholeIndex) flags.push(`no index lookup: whole-index ${n.node} of ${n.index} (no Index Cond) with enable_seqscan = off`);
  }
  if (seeded) {
    for (const n of plan.chosen) {
      if (n.node === 'Seq Scan' && GROWING_TABLES.includes(n.relation ?? '')) flags.push(`planned as a Seq Scan on ${n.relation}, which grows with the accounts`);
    }
  }
  return flags;
}

export interface ExplainOptions {
  databaseUrl: string;
  /** DATABASE_SCHEMA: the search_path the server's sessions have (server/db/connect.ts sets it at connection start). */
  schema: string;
  statements: StatementSample[];
  /** Accounts are seeded: a planned Seq Scan on a growing table is flagged. */
  seeded: boolean;
}

export async function explainStatements(options: ExplainOptions): Promise<LevelPlans> {
  const queueSchema = `${jobsSchema(options.schema)}.`;
  const result: LevelPlans = { statements: [], queue: [], utility: [] };
  const client = new pg.Client({ connectionString: options.databaseUrl, options: startupOptions(options.schema) });
  await client.connect();
  try {
    const explain = async (what: string, sample: StatementSample) =>
      (await client.query<{ 'QUERY PLAN': [{ Plan: ExplainNode }] }>(`explain (${what}) ${sample.text}`, sample.values)).rows[0]!['QUERY PLAN'][0].Plan;
    for (const sample of options.statements) {
      const kind = kindOf(sample.text);
      if (sample.text.includes(queueSchema)) {
        result.queue.push(sample.key);
        continue;
      }
      if (!kind) {
        result.utility.push(sample.key);
        continue;
      }
      const plan: StatementPlan = { text: sample.key, scenarios: sample.scenarios, kind, chosen: [], forced: [], flags: [] };
      await client.query('begin');
      try {
        plan.chosen = planNodes(await explain('format json', sample));
        if (kind === 'read') {
          const analyzed = await explain('analyze, buffers, format json', sample);
          plan.buffers = { hit: analyzed['Shared Hit Blocks'] ?? 0, read: analyzed['Shared Read Blocks'] ?? 0 };
        }
        await client.query('set local enable_seqscan = off');
        plan.forced = planNodes(await explain('format json', sample));
        plan.flags = flagsOf(plan, options.seeded);
      } catch (err) {
        plan.error = (err as Error).message;
        plan.flags = [`EXPLAIN failed: ${plan.error}`];
      } finally {
        await client.query('rollback');
      }
      result.statements.push(plan);
    }
  } finally {
    await client.end();
  }
  return result;
}
