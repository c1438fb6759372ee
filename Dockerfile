# syntax=docker/dockerfile:1
# One image for both roles (APP_ROLE=api|worker). Build stage compiles; runtime stage has production deps only.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
COPY migrations ./migrations
RUN npx nest build

FROM node:20-slim AS runtime
ENV NODE_ENV=production
# tini as PID 1: it forwards SIGTERM to Node and reaps children. Node as PID 1 ignores a signal it has no handler for
# yet (during start-up) and its own re-raised one after a graceful close, under `docker run` or Kubernetes alike.
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# typeorm names ts-node as an optional peer, so --omit=dev keeps it and TypeScript (~24 MB nothing at runtime needs).
RUN npm ci --omit=dev --no-audit --no-fund && rm -rf node_modules/ts-node node_modules/typescript node_modules/.bin/ts-node* node_modules/.bin/tsc node_modules/.bin/tsserver && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY templates ./templates
RUN mkdir -p /app/var/uploads && chown -R node:node /app/var
USER node
EXPOSE 3000
# A long start period: the api answers only once the migrations ran, and one building an index on a large table may take
# minutes (failures in the start period do not count; the first success ends it).
HEALTHCHECK --interval=10s --timeout=3s --retries=5 --start-period=15m CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/live').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
# A 1 GiB heap ceiling, far above what the service holds (~150 MiB of RSS in all): V8 sizes its heap growth by the ceiling, and
# with the default (a quarter of the host's memory, up to 4 GiB) a 200,000-entry statement import peaked at ~350 MiB
# of RSS, mostly garbage not yet collected; ~220 MiB with this ceiling (BENCHMARKS.md). Give the container at least 1.5 GiB, or lower the flag with it.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--max-old-space-size=1024", "dist/src/main.js"]
# Migrations by hand, under the start-up's advisory lock, as the tables' owner: docker compose run --rm migrate
