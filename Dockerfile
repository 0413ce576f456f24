# syntax=docker/dockerfile:1
# Marquee: one image for the API replicas (`marquee serve`), the queue workers (`marquee worker`) and
# one-off commands (`marquee migrate`, `import`, `embed`, `apikey create`). compose.yaml runs it.
#
#   docker build -t marquee .
#   docker run -e DATABASE_URL=postgres://… -v /srv/marquee/models:/models:ro -v posters:/data -p 4000:4000 marquee
#
# Backbone weights are never in the image: mount them at /models (MARQUEE_MODELS_DIR), laid out as
# in ../shared/models (<backbone>/<file>.onnx, checked against the manifest's sha256 at load time).
ARG NODE_VERSION=20

# ---- build: native addons (hnswlib-node), TypeScript, schema.graphql, the explorer; then production deps only
FROM node:${NODE_VERSION}-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# `prepare` (npm run build) needs the sources: install first without it, build below.
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm rebuild --no-audit --no-fund
COPY tsconfig.json eslint.config.mjs ./
COPY bin bin
COPY src src
COPY migrations migrations
COPY web web
COPY test test
COPY bench bench
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf dist/test dist/bench

# ---- runtime: node, the built program, production dependencies; runs as the unprivileged `node` user
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000 \
    MARQUEE_DATA_DIR=/data \
    MARQUEE_MODELS_DIR=/models \
    MARQUEE_DEVICE=cpu
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json /app/package-lock.json ./
COPY --from=build --chown=root:root /app/node_modules node_modules
COPY --from=build --chown=root:root /app/dist dist
COPY --from=build --chown=root:root /app/bin bin
COPY --from=build --chown=root:root /app/schema.graphql ./
RUN mkdir -p /data /models && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 4000
# Ready = the database answers and no migration is pending (GET /readyz). A worker has no HTTP port:
# compose.yaml turns this check off for it.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/marquee.js"]
CMD ["serve"]
