# Image for docker-compose.yml: Node 20 + PostgreSQL 15 + the orchestrator. Not built in CI (the
# project's machines have no Docker engine); kept simple so it can be checked by hand.
FROM node:20-bookworm-slim
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql-15 etcd-client \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/orchestrator
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --no-audit --no-fund
COPY src ./src
COPY test ./test
COPY bench ./bench
RUN npx tsc -p tsconfig.json && mkdir -p /var/lib/orchestrator && chown postgres:postgres /var/lib/orchestrator
USER postgres
ENTRYPOINT ["node", "/opt/orchestrator/dist/src/cli/orchestrator.js"]
