import { Ctx, Query, Resolver } from 'type-graphql';
import { ServerInfo } from '../schema/admin';
import { RequestContext } from '../server/context';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { version } = require('../../../package.json') as { version: string };

@Resolver()
export class InfoResolver {
  @Query(() => ServerInfo, { description: 'Backbone, execution provider, active model and index state' })
  async serverInfo(@Ctx() ctx: RequestContext): Promise<ServerInfo> {
    const { app } = ctx;
    const embedder = await app.embedding.info().catch(() => null);
    const active = await app.models.active();
    return {
      version,
      database: app.db.kind,
      backbone: app.embedding.backbone,
      provider: embedder?.provider ?? null,
      skippedProviders: embedder?.skipped ?? [],
      activeModelVersion: active?.version.name ?? null,
      indexedPosters: app.similarity.indexSize,
      indexGraphReady: app.similarity.graphReady,
    };
  }
}
