import { DataSource } from 'typeorm';
import type { ApiKeyEntity } from '../db/entities';
import type { Role } from '../domain/api-key';

export class ApiKeyRepository {
  constructor(private readonly ds: DataSource) {}

  async insert(prefix: string, keyHash: string, role: Role, label: string | null): Promise<number> {
    const rows = await this.ds.query<Array<{ id: number }>>(`INSERT INTO api_key (prefix, key_hash, role, label) VALUES ($1, $2, $3, $4) RETURNING id`, [
      prefix,
      keyHash,
      role,
      label,
    ]);
    return rows[0].id;
  }

  async findActiveByHash(keyHash: string): Promise<Pick<ApiKeyEntity, 'id' | 'role'> | null> {
    const rows = await this.ds.query<Array<Pick<ApiKeyEntity, 'id' | 'role'>>>(`SELECT id, role FROM api_key WHERE key_hash = $1 AND revoked_at IS NULL`, [
      keyHash,
    ]);
    return rows[0] ?? null;
  }

  async touch(id: number): Promise<void> {
    await this.ds.query(`UPDATE api_key SET last_used_at = now() WHERE id = $1`, [id]);
  }
}
