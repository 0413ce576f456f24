import { Query, Resolver } from 'type-graphql';
import { ServerInfo } from '../schema/admin';
import { SchemaMapper } from '../schema/mapper';
import { ServerStatusService } from '../services/server-status.service';

@Resolver()
export class InfoResolver {
  constructor(
    private readonly status: ServerStatusService,
    private readonly mapper: SchemaMapper,
  ) {}

  @Query(() => ServerInfo, { description: 'Backbone, execution provider, active model, index and recommender state' })
  async serverInfo(): Promise<ServerInfo> {
    return this.mapper.serverInfo(await this.status.status());
  }
}
