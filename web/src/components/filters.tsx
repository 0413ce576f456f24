import { useId } from 'react';
import type { Genre } from '../gql/graphql';
import { GENRES } from '../lib/genres';

/** Toggle buttons, one per genre; a movie must carry every pressed genre. */
export function GenreFilter({ value, onChange, counts }: { value: Genre[]; onChange: (v: Genre[]) => void; counts?: Map<string, number> }) {
  const toggle = (g: Genre) => onChange(value.includes(g) ? value.filter((x) => x !== g) : [...value, g]);
  return (
    <fieldset className="genre-filter">
      <legend>Genres (all of)</legend>
      {GENRES.map((g) => (
        <button key={g.id} type="button" className="chip" aria-pressed={value.includes(g.id)} onClick={() => toggle(g.id)}>
          {g.label}
          {counts?.has(g.id) && <span className="chip-count"> {counts.get(g.id)}</span>}
        </button>
      ))}
      {value.length > 0 && (
        <button type="button" className="link-button" onClick={() => onChange([])}>
          Clear genres
        </button>
      )}
    </fieldset>
  );
}

export interface YearRangeValue {
  from?: number;
  to?: number;
}

export function YearRange({ value, onChange }: { value: YearRangeValue; onChange: (v: YearRangeValue) => void }) {
  const id = useId();
  const parse = (s: string): number | undefined => {
    const n = Number.parseInt(s, 10);
    return Number.isFinite(n) && n >= 1800 && n <= 2200 ? n : undefined;
  };
  return (
    <fieldset className="year-range">
      <legend>Years</legend>
      <label htmlFor={`${id}-from`}>From</label>
      <input
        id={`${id}-from`}
        type="number"
        inputMode="numeric"
        min={1800}
        max={2200}
        placeholder="any"
        defaultValue={value.from ?? ''}
        onChange={(e) => onChange({ ...value, from: parse(e.currentTarget.value) })}
      />
      <label htmlFor={`${id}-to`}>to</label>
      <input
        id={`${id}-to`}
        type="number"
        inputMode="numeric"
        min={1800}
        max={2200}
        placeholder="any"
        defaultValue={value.to ?? ''}
        onChange={(e) => onChange({ ...value, to: parse(e.currentTarget.value) })}
      />
    </fieldset>
  );
}
