import { displayTitle } from '../../../src/presentation/display-title';

export { displayTitle };

export const percent = (x: number, digits = 0): string => `${(x * 100).toFixed(digits)} %`;

export function movieCaption(m: { title: string; year?: number | null }): string {
  return m.year ? `${displayTitle(m.title)} (${m.year})` : displayTitle(m.title);
}
