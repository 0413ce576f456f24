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

/** One end of the year range: empty or out of 1800..2200 means open. */
function YearInput({ label, value, onChange }: { label: string; value: number | undefined; onChange: (year: number | undefined) => void }) {
  const id = useId();
  return (
    <>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="number"
        inputMode="numeric"
        min={1800}
        max={2200}
        placeholder="any"
        defaultValue={value ?? ''}
        onChange={(e) => {
          const n = Number.parseInt(e.currentTarget.value, 10);
          onChange(Number.isFinite(n) && n >= 1800 && n <= 2200 ? n : undefined);
        }}
      />
    </>
  );
}

export function YearRange({ value, onChange }: { value: YearRangeValue; onChange: (v: YearRangeValue) => void }) {
  return (
    <fieldset className="year-range">
      <legend>Years</legend>
      <YearInput label="From" value={value.from} onChange={(from) => onChange({ ...value, from })} />
      <YearInput label="to" value={value.to} onChange={(to) => onChange({ ...value, to })} />
    </fieldset>
  );
}
