import path from 'node:path';

/** Process configuration, read once from the environment (see README's environment table). */
export interface Config {
  databaseUrl?: string;
  dataDir: string;
  modelsDir: string;
  device: 'auto' | 'cpu' | 'webgpu' | 'cuda';
  host: string;
  port: number;
  production: boolean;
  requireKey: boolean;
  allowPrivateUrls: boolean;
  corsOrigins: string[];
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const device = (env.MARQUEE_DEVICE ?? 'auto').toLowerCase();
  if (!['auto', 'cpu', 'webgpu', 'cuda'].includes(device)) {
    throw new Error(`MARQUEE_DEVICE must be auto, cpu, webgpu or cuda (got "${env.MARQUEE_DEVICE}")`);
  }
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: path.resolve(env.MARQUEE_DATA_DIR ?? './data'),
    modelsDir: path.resolve(env.MARQUEE_MODELS_DIR ?? './models'),
    device: device as Config['device'],
    host: env.HOST ?? '127.0.0.1',
    port: Number(env.PORT ?? 4000),
    production: env.NODE_ENV === 'production',
    requireKey: env.MARQUEE_REQUIRE_KEY === '1',
    allowPrivateUrls: env.MARQUEE_ALLOW_PRIVATE_URLS === '1',
    corsOrigins: (env.MARQUEE_CORS_ORIGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
  };
}
