# tsws container: Node 24 LTS on Debian 13 (trixie), TypeScript run directly by tsx (no build step).
#
# /app is tsws and its config directory at once, as this repository is (the CMD runs tsws -c /app):
#   /app/conf       global settings          derived image: COPY conf /app/conf          volume: -v ./conf:/app/conf:ro
#   /app/conf.d/    one vhost file per site  derived image: COPY conf.d/ /app/conf.d/    volume: -v ./conf.d:/app/conf.d:ro
#   /app/plugins/   shipped plugins + yours  derived image: COPY plugins/x /app/plugins/x volume: one per plugin, -v ./x:/app/plugins/x:ro
#   /app/var/       writable (the packet log's default log-dir)
#   /var/log/tsws/  access logs, when a vhost sets "access-log" (rotated by /etc/logrotate.d/tsws)
# Logs are JSON lines on stdout. docs/guides/operating.md "Deploying" walks through build, push, deploy, reload.

FROM node:24-trixie-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only: tsx is one, so .ts plugins load without a build step. npm installs
# the one uWS.js package for this platform and Node (@uwsjs/linux-x64-24: a single uws.node).
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

FROM node:24-trixie-slim
# logrotate (and pkill, for its postrotate) for access logs written to files.
RUN apt-get update \
 && apt-get install -y --no-install-recommends logrotate procps \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
# Keeps V8's young generation at its starting size (see bin/tsws.mjs); NODE_OPTIONS so CMD stays plain.
ENV NODE_OPTIONS=--max-semi-space-size=4
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY server ./server
COPY share ./share
COPY conf ./conf
COPY conf.d ./conf.d
COPY plugins ./plugins
COPY logrotate /etc/logrotate.d/tsws
RUN mkdir -p /app/var /var/log/tsws && chown node:node /app/var /var/log/tsws
# The image's own unprivileged user: no privilege keys needed in conf, ports stay above 1024.
USER node
# 7681: the default vhost; 9464: Prometheus metrics (conf "metrics"), for the scraper only.
EXPOSE 7681 9464
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 CMD ["node", "/app/bin/healthcheck.mjs"]
CMD ["node", "bin/tsws.mjs", "-c", "/app"]
