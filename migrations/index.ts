import { Initial1764090000000 } from './1764090000000-Initial';

/** Every migration, in order. Listed explicitly so the same list works from ts sources and compiled output. */
export const MIGRATIONS = [Initial1764090000000];
