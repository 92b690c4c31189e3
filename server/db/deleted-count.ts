/**
 * The row count of a knex delete: a number on PostgreSQL; a raw driver result
 * ({ rowCount, ... }) is read too, as the PGlite driver of earlier versions gave.
 */
export function deletedCount(result: unknown): number {
  return typeof result === 'number' ? result : Number((result as { rowCount?: number } | undefined)?.rowCount ?? 0);
}
