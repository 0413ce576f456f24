/**
 * The poster data set stores titles with commas turned into semicolons and a leading article moved
 * to the end: "English Patient;The", "Murder;She Baked", "Thieves (Voleurs;Les)". People read
 * "The English Patient", "Murder, She Baked", "Thieves (Les Voleurs)". Plain code: the web bundle
 * and the MCP server both use it.
 */
const TRAILING_ARTICLE = /^(.*?);\s*(The|A|An|Les|La|Le|Los|Las|Il|Das|Der|Die|El)$/i;
const ALTERNATIVE = /^(.*?)\s+\((a\.k\.a\.\s+)?(.*)\)$/i;

function readable(part: string): string {
  const m = TRAILING_ARTICLE.exec(part);
  const fronted = m ? `${m[2]} ${m[1]}` : part;
  return fronted.replace(/\s*;\s*/g, ', ');
}

export function displayTitle(title: string): string {
  const alt = ALTERNATIVE.exec(title);
  return alt ? `${readable(alt[1])} (${alt[2] ?? ''}${readable(alt[3])})` : readable(title);
}
