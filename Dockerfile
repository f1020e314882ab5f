# tsws container: Node 20 on Debian bookworm, TypeScript run directly by tsx (no build step).
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev \
 # keep only the Linux x64/arm64 uWS.js binaries
 && find node_modules/uWebSockets.js -name 'uws_*.node' ! -name 'uws_linux_x64_*' ! -name 'uws_linux_arm64_*' -delete \
 && npm cache clean --force

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY server ./server
COPY share ./share
# the configuration and plugins: replace them in a derived image or with a mounted volume
COPY conf ./conf
COPY conf.d ./conf.d
COPY plugins ./plugins
RUN mkdir -p /var/log/tsws && chown node:node /var/log/tsws
USER node
EXPOSE 7681
STOPSIGNAL SIGTERM
CMD ["node", "bin/tsws.mjs", "-c", "/app"]
