# syntax=docker/dockerfile:1.7
# One file, one target per service, all from the same build:
#
#   docker build --target gateway   -t shop/gateway .
#   docker build --target accounts  -t shop/accounts .     (products, inventory, reviews, orders alike)
#   docker build --target migrate   -t shop/migrate .      (applies the migrations, then exits)
#
# deploy/compose.yaml builds and runs them all. Checked by tools/deploy-check (`npm run deploy:check`);
# no container engine has run it here (see README, Deploy).

# Node >= 22.15: the gateway's entry applies its node flags with process.execve (one process).
ARG NODE_IMAGE=node:22.16.0-bookworm-slim

# ---- build: every dependency and the sources; Prisma clients, resolver types, explorer, bundles
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY . .
# postinstall generates the Prisma clients (with the adapter, no native engine) and resolver types.
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
# The bundles (dist/main.js of each service), the explorer's assets, and the default supergraph,
# whose routing URLs a deployment replaces with SUBGRAPH_URL_<NAME> (or mounts its own file).
RUN npm run build && npm run compose
# Only the manifests, for the production install below.
RUN find . -name package.json -not -path '*/node_modules/*' -print0 | tar --null -cf /tmp/manifests.tar -T -

# ---- prod-deps: production dependencies of the services only (no tools, no dev dependencies)
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY --from=build /tmp/manifests.tar /tmp/manifests.tar
COPY --from=build /app/package-lock.json ./package-lock.json
# Without the manifests of the tools, the examples, the test support and the database tooling, npm ci
# leaves their dependencies out (a --workspace filter does not: npm ci installs the whole lockfile).
# The services' bundles already hold every workspace package they use. Tried outside an image:
# 468 packages instead of 682, and the bundles ran on it.
RUN tar -xf /tmp/manifests.tar && rm /tmp/manifests.tar && rm -rf tools examples packages/test-support prisma
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# ---- runtime: what every service image shares
FROM ${NODE_IMAGE} AS runtime
# Production unless told otherwise (also what an unset NODE_ENV means to the services); listening on
# every interface of the container; writable state only under /tmp (PERSISTED_DIR, used without
# Redis), so the root filesystem can be mounted read-only with a tmpfs on /tmp. Traces are exported
# when OTEL_EXPORTER_OTLP_ENDPOINT is set.
ENV NODE_ENV=production HOST=0.0.0.0 PERSISTED_DIR=/tmp/shop/persisted
WORKDIR /app
COPY --from=prod-deps /app/ ./
COPY --from=build /app/gateway/dist/ ./gateway/dist/
COPY --from=build /app/gateway/supergraph.graphql ./gateway/supergraph.graphql
COPY --from=build /app/subgraphs/ /tmp/subgraphs/
# Each subgraph's bundle and the schema it reads beside it.
RUN for name in accounts products inventory reviews orders; do \
      mkdir -p "subgraphs/$name" && cp -r "/tmp/subgraphs/$name/dist" "subgraphs/$name/dist" \
      && cp "/tmp/subgraphs/$name/schema.graphql" "subgraphs/$name/schema.graphql"; \
    done && rm -rf /tmp/subgraphs
COPY deploy/docker/healthcheck.mjs /app/healthcheck.mjs
# The image's files belong to root and are read-only to the service's user.
USER node

# ---- the services
FROM runtime AS gateway
ENV PORT=4000 METRICS_HOST=0.0.0.0 METRICS_PORT=9464 GATEWAY_HEAP_MB=192
EXPOSE 4000 9464
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
# The entry applies GATEWAY_HEAP_MB itself (packages/service-kit/src/node-flags.ts).
CMD ["node", "gateway/dist/main.js"]

FROM runtime AS accounts
ENV PORT=4001
EXPOSE 4001
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
CMD ["node", "subgraphs/accounts/dist/main.js"]

FROM runtime AS products
ENV PORT=4002
EXPOSE 4002
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
CMD ["node", "subgraphs/products/dist/main.js"]

FROM runtime AS inventory
ENV PORT=4003
EXPOSE 4003
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
CMD ["node", "subgraphs/inventory/dist/main.js"]

FROM runtime AS reviews
ENV PORT=4004
EXPOSE 4004
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
CMD ["node", "subgraphs/reviews/dist/main.js"]

FROM runtime AS orders
ENV PORT=4005
EXPOSE 4005
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
CMD ["node", "subgraphs/orders/dist/main.js"]

# ---- migrations: the build stage has the migration engine (WebAssembly) and tsx; runs once and exits
FROM build AS migrate
ENV NODE_ENV=production
USER node
HEALTHCHECK NONE
CMD ["node", "--import", "tsx", "prisma/src/cli/migrate.ts"]
