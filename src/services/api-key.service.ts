import crypto from 'node:crypto';
import { ROLES, type Role } from '../domain/api-key';
import { AppError } from '../errors';
import { ApiKeyRepository } from '../repositories/api-key.repository';

const PREFIX = 'mq_';

/**
 * API keys are 32 random bytes; only their SHA-256 is stored (a fast hash is enough for
 * high-entropy secrets, and it lets a request be authenticated with one indexed lookup).
 */
export class ApiKeyService {
  // Verified keys are cached briefly so a burst of requests costs one lookup, not one each.
  private readonly cache = new Map<string, { role: Role | null; until: number }>();

  constructor(private readonly repo: ApiKeyRepository) {}

  static hash(key: string): string {
    return crypto.createHash('sha256').update(key).digest('hex');
  }

  async create(role: Role, label: string | null = null): Promise<{ id: number; key: string }> {
    if (!ROLES.includes(role)) throw new AppError('BAD_USER_INPUT', 'role must be admin or user', 'BAD_ROLE');
    const key = PREFIX + crypto.randomBytes(32).toString('base64url');
    const id = await this.repo.insert(key.slice(0, PREFIX.length + 6), ApiKeyService.hash(key), role, label);
    return { id, key };
  }

  /** The role of a presented key, or null when it is unknown or revoked. */
  async verify(key: string): Promise<Role | null> {
    const hash = ApiKeyService.hash(key);
    const hit = this.cache.get(hash);
    if (hit && hit.until > Date.now()) return hit.role;
    const row = await this.repo.findActiveByHash(hash);
    if (row) void this.repo.touch(row.id).catch(() => undefined);
    const role = row?.role ?? null;
    if (this.cache.size > 10_000) this.cache.clear();
    // An unknown key is remembered for a moment only: one just created (`marquee apikey create`) works at once.
    this.cache.set(hash, { role, until: Date.now() + (role ? 30_000 : 1_000) });
    return role;
  }
}
