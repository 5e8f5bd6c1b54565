import { z } from 'zod';
import { badInput } from '@shop/service-kit';

/** The rules the database CHECK constraint also enforces, said here in words a client can act on. */
export const addReviewInput = z.object({
  upc: z.string().trim().min(1, 'upc must not be empty').max(64, 'upc must be at most 64 characters'),
  rating: z.number().int('rating must be a whole number').min(1, 'rating must be 1 to 5').max(5, 'rating must be 1 to 5'),
  body: z
    .string()
    .trim()
    .min(1, 'body must not be empty')
    .max(5000, 'body must be at most 5000 characters'),
});
export type AddReviewInput = z.infer<typeof addReviewInput>;

export function parseAddReviewInput(input: unknown): AddReviewInput {
  const result = addReviewInput.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => ({ field: issue.path.join('.'), message: issue.message }));
  throw badInput(`Invalid review: ${problems.map((p) => p.message).join('; ')}.`, 'BAD_USER_INPUT', { problems });
}
