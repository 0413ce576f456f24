/** Ids from the outside (GraphQL ID strings) parsed by what they name, so an error says which kind was malformed. */
import { badInput } from '../errors';

export type IdKind = 'movie' | 'training job' | 'model version';

/** Ids are PostgreSQL `serial` (int4) values. */
export const MAX_ID = 2_147_483_647;

function parseId(kind: IdKind, id: string | number): number {
  const n = typeof id === 'number' ? id : Number(id);
  if (!Number.isSafeInteger(n) || n <= 0 || String(n) !== String(id).trim()) throw badInput('BAD_ID', `malformed ${kind} id "${id}"`);
  if (n > MAX_ID) throw badInput('BAD_ID', `${kind} id ${id} is out of range (at most ${MAX_ID})`);
  return n;
}

export const parseMovieId = (id: string | number): number => parseId('movie', id);
export const parseTrainingJobId = (id: string | number): number => parseId('training job', id);
export const parseModelVersionId = (id: string | number): number => parseId('model version', id);
