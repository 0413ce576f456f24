/**
 * One server for the client tests (the explorer in Chromium and the MCP server): the 400-poster
 * sample imported, embedded with the real backbone, a genre model trained and active, an admin key.
 * Image URLs may point at loopback (MARQUEE_ALLOW_PRIVATE_URLS=1, as on an intranet), so that the
 * explorer's "image URL" upload can be given one of the server's own posters: nothing here reaches
 * the internet. The ratings of the sample's movies (a real slice of ../shared/data/ratings) are
 * imported and the recommender fitted, so recommendations and alsoLiked learn from real people.
 * MARQUEE_CLIENTS_URL (+ MARQUEE_CLIENTS_ADMIN_KEY) points the tests at a server already running
 * instead, for working on the clients.
 */
import { App } from '../../src/app';
import { MarqueeServer } from '../../src/server/http-server';
import { ratingsSlice } from '../ratings-support';
import { graphqlClient, openTrainedSampleApp, tmpDir } from '../support';

export interface ClientFixture {
  /** http://127.0.0.1:PORT, the explorer at `/`, GraphQL at `/graphql`. */
  base: string;
  apiUrl: string;
  adminKey: string;
  gql: ReturnType<typeof graphqlClient>;
  stop(): Promise<void>;
}

export async function startClientFixture(): Promise<ClientFixture> {
  let base: string;
  let adminKey: string;
  let server: MarqueeServer | undefined;
  if (process.env.MARQUEE_CLIENTS_URL) {
    base = process.env.MARQUEE_CLIENTS_URL.replace(/\/$/, '');
    adminKey = process.env.MARQUEE_CLIENTS_ADMIN_KEY ?? '';
  } else {
    const app: App = await openTrainedSampleApp((c) => (c.net.allowPrivateUrls = true));
    adminKey = (await app.apiKeys.create('admin')).key;
    await app.ratingsImport.importFile(ratingsSlice(tmpDir(), 0).ratings, { progress: false });
    await app.recommendations.ready();
    server = new MarqueeServer(app, { log: () => undefined });
    base = (await server.start('127.0.0.1', 0)).url.replace(/\/graphql$/, '');
  }
  const apiUrl = `${base}/graphql`;
  return { base, apiUrl, adminKey, gql: graphqlClient(apiUrl), stop: async () => void (await server?.stop()) };
}
