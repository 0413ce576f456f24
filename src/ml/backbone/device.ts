/** Where the backbone runs: the devices a user may ask for and the execution providers behind them. */

export const DEVICES = ['auto', 'cpu', 'webgpu', 'cuda'] as const;
export type Device = (typeof DEVICES)[number];
export type Provider = Exclude<Device, 'auto'>;
/** Order `auto` tries. */
export const AUTO_PROVIDER_ORDER: readonly Provider[] = ['cuda', 'webgpu', 'cpu'];
