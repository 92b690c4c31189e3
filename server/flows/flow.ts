// A self-service flow, after Ory Kratos's flow objects: a kind, a state from
// that kind's state machine, an expiry, and what binds it to one browser (its
// oidc-provider interaction, or its session on the account page). Stored in the
// database so any process can continue it.
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { Identifier } from '../accounts/identifiers.ts';
import type { Locale } from '../i18n/locale.ts';
import { AppError } from '../errors/index.ts';
import { deletedCount } from '../db/deleted-count.ts';

export type FlowKind = 'sign-in' | 'register' | 'recover' | 'confirm' | 'reauth' | 'delete-account';

/**
 * The state machines. A flow starts in one of its kind's ENTRY_STATES (most in
 * `code_sent`, created when their first code goes out) and moves only along
 * these edges; see docs/flows.md for diagrams.
 */
export const TRANSITIONS = {
  'sign-in': { code_sent: ['completed'], completed: [] },
  register: { code_sent: ['completed'], completed: [] },
  recover: { code_sent: ['code_verified'], code_verified: ['completed'], completed: [] },
  confirm: { code_sent: ['completed'], completed: [] },
  // Step-up on the account page: a code to a confirmed identifier, or a right
  // password, which completes it in the request that starts it.
  reauth: { code_sent: ['completed'], completed: [] },
  // Deleting the account from /account: a code to a confirmed identifier, entered in the same session.
  'delete-account': { code_sent: ['completed'], completed: [] },
} as const satisfies Record<FlowKind, Record<string, readonly string[]>>;

export const ENTRY_STATES = {
  'sign-in': ['code_sent'],
  register: ['code_sent'],
  recover: ['code_sent'],
  confirm: ['code_sent'],
  reauth: ['code_sent', 'completed'],
  'delete-account': ['code_sent'],
} as const satisfies { [K in FlowKind]: readonly FlowState<K>[] };

export type FlowState<K extends FlowKind = FlowKind> = keyof (typeof TRANSITIONS)[K] & string;

/** A flow lives 15 minutes: three code lifetimes, enough to ask for a new code twice. */
export const FLOW_TTL_SECONDS = 15 * 60;

export interface Flow {
  id: string;
  kind: FlowKind;
  state: string;
  /** `interaction:<uid>` or `session:<uid>`: only that browser can continue the flow. */
  boundTo: string;
  /** For `confirm`: the signed-in account the identifier is being added to. */
  accountId?: string;
  identifier: Identifier;
  locale: Locale;
  /**
   * Kind-specific data; a pending password hash for `register`, how the person
   * proved themselves for `reauth`. Never shown to the person.
   */
  data: { passwordHash?: string; method?: 'password' | 'code' };
  expiresAt: Date;
}

export class FlowNotFound extends AppError {
  constructor() {
    super(400, 'flow_expired', 'this step has expired or was already completed; start again');
  }
}

interface Row {
  id: string;
  kind: FlowKind;
  state: string;
  bound_to: string;
  account_id: string | null;
  identifier_kind: Identifier['kind'];
  identifier: string;
  locale: Locale;
  data: Flow['data'];
  expires_at: Date;
}

function fromRow(row: Row): Flow {
  return {
    id: row.id,
    kind: row.kind,
    state: row.state,
    boundTo: row.bound_to,
    accountId: row.account_id ?? undefined,
    identifier: { kind: row.identifier_kind, value: row.identifier } as Identifier,
    locale: row.locale,
    data: row.data ?? {},
    expiresAt: new Date(row.expires_at),
  };
}

export function flowStore(db: Knex, now: () => number = Date.now) {
  return {
    async create(input: {
      kind: FlowKind;
      boundTo: string;
      accountId?: string;
      identifier: Identifier;
      locale: Locale;
      data?: Flow['data'];
      /** One of the kind's ENTRY_STATES; `code_sent` when not given. */
      state?: string;
      /** Lifetime from now; FLOW_TTL_SECONDS when not given. */
      ttlSeconds?: number;
    }): Promise<Flow> {
      const state = input.state ?? 'code_sent';
      if (!(ENTRY_STATES[input.kind] as readonly string[]).includes(state)) throw new Error(`a ${input.kind} flow cannot start in ${state}`);
      // 128 bits from a CSPRNG (OWASP ASVS V3.2.2 for session-like identifiers).
      const id = randomBytes(16).toString('base64url');
      const [row] = await db('flows')
        .insert({
          id,
          kind: input.kind,
          state,
          bound_to: input.boundTo,
          account_id: input.accountId ?? null,
          identifier_kind: input.identifier.kind,
          identifier: input.identifier.value,
          locale: input.locale,
          data: JSON.stringify(input.data ?? {}),
          expires_at: new Date(now() + (input.ttlSeconds ?? FLOW_TTL_SECONDS) * 1000),
        })
        .returning('*');
      return fromRow(row as Row);
    },

    /** The live flow with this id bound to this browser, or FlowNotFound. */
    async find(id: string, boundTo: string): Promise<Flow> {
      if (!/^[A-Za-z0-9_-]{22}$/.test(id)) throw new FlowNotFound();
      const row = (await db('flows').where({ id, bound_to: boundTo }).first()) as Row | undefined;
      if (!row || new Date(row.expires_at).getTime() <= now()) throw new FlowNotFound();
      return fromRow(row);
    },

    /** The newest live flow of `kind` in `state` for this browser and account, if any. */
    async findLatest(query: { kind: FlowKind; state: string; boundTo: string; accountId: string }): Promise<Flow | undefined> {
      const row = (await db('flows')
        .where({ kind: query.kind, state: query.state, bound_to: query.boundTo, account_id: query.accountId })
        .andWhere('expires_at', '>', new Date(now()))
        .orderBy('expires_at', 'desc')
        .first()) as Row | undefined;
      return row ? fromRow(row) : undefined;
    },

    /**
     * Moves the flow along one edge of its state machine. Conditional on the
     * current state, so two processes racing on one flow cannot both advance it.
     * `ttlSeconds` gives the flow a new lifetime from now (a completed `reauth`
     * counts for a fixed time after completion).
     */
    async transition(flow: Flow, to: string, options: { ttlSeconds?: number } = {}): Promise<Flow> {
      const allowed = (TRANSITIONS[flow.kind] as Record<string, readonly string[]>)[flow.state] ?? [];
      if (!allowed.includes(to)) throw new FlowNotFound();
      const expiresAt = options.ttlSeconds === undefined ? undefined : new Date(now() + options.ttlSeconds * 1000);
      const updated = await db('flows')
        .where({ id: flow.id, state: flow.state })
        .andWhere('expires_at', '>', new Date(now()))
        .update({ state: to, updated_at: db.fn.now(), ...(expiresAt ? { expires_at: expiresAt } : {}) })
        .returning('id');
      if (updated.length !== 1) throw new FlowNotFound();
      return { ...flow, state: to, ...(expiresAt ? { expiresAt } : {}) };
    },

    /** Forgets a flow whose first code could not be sent: nothing is left half-made. */
    async remove(id: string): Promise<void> {
      await db('flows').where({ id }).delete();
    },

    /** Deletes the flows of these emails or phones (an account deleted: nothing of it is kept); returns how many. */
    async forgetIdentifiers(identifiers: string[]): Promise<number> {
      if (!identifiers.length) return 0;
      return deletedCount(await db('flows').whereRaw(`lower(identifier) in (${identifiers.map(() => 'lower(?)').join(', ')})`, identifiers).delete());
    },

    /** Deletes flows that expired; returns how many. */
    async purgeExpired(): Promise<number> {
      return deletedCount(await db('flows').where('expires_at', '<', new Date(now())).delete());
    },
  };
}

export type FlowStore = ReturnType<typeof flowStore>;
