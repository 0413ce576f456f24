import { Initial1764090000000 } from './1764090000000-Initial';
import { ActivePerBackbone1764100000000 } from './1764100000000-ActivePerBackbone';
import { PosterText1764300000000 } from './1764300000000-PosterText';
import { Interactions1764400000000 } from './1764400000000-Interactions';
import { JobQueue1764500000000 } from './1764500000000-JobQueue';

/** Every migration, in order. Listed explicitly so the same list works from ts sources and compiled output. */
export const MIGRATIONS = [Initial1764090000000, ActivePerBackbone1764100000000, PosterText1764300000000, Interactions1764400000000, JobQueue1764500000000];
