/**
 * The row count of a knex delete. knex-pglite tags a delete as command 'DEL',
 * so knex hands back the raw result ({ rowCount, ... }) instead of the number
 * it returns on PostgreSQL.
 */
export function deletedCount(result: unknown): number {
  return typeof result === 'number' ? result : Number((result as { rowCount?: number } | undefined)?.rowCount ?? 0);
}
