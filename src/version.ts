// eslint-disable-next-line @typescript-eslint/no-require-imports -- read at run time: an import would copy package.json into dist/
const { version } = require('../../package.json') as { version: string };

/** The package version, as serverInfo and the MCP server report it. */
export const MARQUEE_VERSION = version;
