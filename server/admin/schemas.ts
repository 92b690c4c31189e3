// Schemas shared by the admin API's routes.
import { z } from 'zod';

/** The body of every error (server/errors/http.ts), as OAuth errors are (RFC 6749 §5.2). */
export const errorSchema = z.object({
  error: z.string(),
  error_description: z.string(),
  existing_id: z.string().optional(),
});

export const uuidParams = z.object({ id: z.uuid('must be a UUID') });

/** Newest-first or id-ordered paging: `limit` items after the opaque `cursor`. */
export const paging = {
  limit: z.coerce.number().int().min(1).max(200).default(50).describe('items per page, at most 200'),
  cursor: z.string().max(200).optional().describe('next_cursor of the previous page'),
};

export const page = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    next_cursor: z.string().nullable().describe('pass as cursor for the next page; null on the last page'),
  });

/** A timestamp as it leaves the API (RFC 3339). */
export const timestamp = z.iso.datetime({ offset: true });

/** RFC 8707 §2: a resource indicator is an absolute URI without a fragment. */
export const resourceIdentifier = z
  .string()
  .max(2000)
  .refine((value) => {
    const url = URL.parse(value);
    return url !== null && !url.hash && !value.includes('#');
  }, 'must be an absolute URI without a fragment (RFC 8707 §2)');

/** RFC 6749 §3.3 scope-token: printable ASCII but space, `"` and `\`. */
export const scopeToken = z.string().max(200).regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'must be a scope token (RFC 6749 §3.3)');
