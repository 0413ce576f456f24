/**
 * What a newcomer runs to load posters into an empty database. The server prints these steps
 * when it starts on an empty catalogue, and the explorer shows the same steps as its empty state,
 * so both say exactly the same thing. Plain data: the web bundle imports this file too.
 */
export const FIRST_RUN_STEPS: ReadonlyArray<{ command: string; does: string }> = [
  { command: 'npx marquee demo', does: 'imports the 400-poster sample, embeds it, trains and activates a genre model (about a minute)' },
  { command: 'npx marquee import ../shared/data/posters/movies.csv', does: 'or imports a whole catalogue (then embed and train)' },
  { command: 'npx marquee embed', does: 'computes the poster embeddings' },
  { command: 'npx marquee train --activate', does: 'trains and activates a genre model' },
];

export function firstRunMessage(): string {
  const width = Math.max(...FIRST_RUN_STEPS.map((s) => s.command.length));
  return [
    'The catalogue is empty. To load posters, run from the project root:',
    ...FIRST_RUN_STEPS.map((s) => `  ${s.command.padEnd(width)}  # ${s.does}`),
  ].join('\n');
}
