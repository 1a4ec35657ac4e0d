# agentdrift container image. Build: docker build -t agentdrift .   (docker-compose.yml builds it for you)
#
# Stage 1 compiles the TypeScript (npm ci + npm run build -> dist/) and keeps production dependencies only.
# Stage 2 is node:20-bookworm-slim with dist/, bin/ and node_modules: no compiler, no dev dependencies, not root.
# The Claude Code CLI comes from node_modules: package.json pins @anthropic-ai/claude-code-linux-x64 (the native binary
# task containers run; the daemon copies it into their tool volume and never runs it under its own node) to an exact
# version and package-lock.json fixes it, so every image built from one commit runs the same agent.

# ---- build ------------------------------------------------------------------------------------------------------------
FROM node:20-bookworm AS build
WORKDIR /app
# Manifests first, so the dependency layer is cached until they change. The compiler toolchain of this image builds
# better-sqlite3 when no prebuilt binary fits.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# ---- runtime ----------------------------------------------------------------------------------------------------------
FROM node:20-bookworm-slim
# AGENTDRIFT_DEFAULT_HOST: the listen address when the config file does not set server.host (a file that sets it
# wins). Inside a container the daemon must listen on all interfaces for a published port or another container
# (Prometheus) to reach it; so a mounted file without server.host listens on 0.0.0.0 here, 127.0.0.1 elsewhere.
ENV NODE_ENV=production \
    AGENTDRIFT_CONFIG=/etc/agentdrift/agentdrift.yaml \
    AGENTDRIFT_DEFAULT_HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
# Default configuration for a container: the database and logs in the /data volume; it listens on 0.0.0.0:9477
# (AGENTDRIFT_DEFAULT_HOST above, the default port). Mount your own file over it, or point AGENTDRIFT_CONFIG elsewhere.
RUN mkdir -p /etc/agentdrift /data \
 && printf '%s\n' \
      '# agentdrift in a container: see docs/monitoring.md. Mount your own file here to configure tracks.' \
      '# server.host defaults to 0.0.0.0 in the image (AGENTDRIFT_DEFAULT_HOST), server.port to 9477.' \
      'dataDir: /data' \
      > /etc/agentdrift/agentdrift.yaml \
 && chown node:node /data
# Not root: the image's `node` user (uid 1000). Talking to the Docker Engine needs the group that owns the mounted
# socket: docker-compose.yml adds it with `group_add: [DOCKER_GID]`; with `docker run`, pass
# `--group-add "$(stat -c %g /var/run/docker.sock)"`.
USER node
VOLUME ["/data"]
EXPOSE 9477
# `agentdrift healthcheck` reads the same config as the daemon (AGENTDRIFT_CONFIG, the ENV defaults) and GETs /healthz
# on its server.host:server.port (0.0.0.0 via the loopback): a file that moves the port keeps the container healthy.
# Give the daemon's config through AGENTDRIFT_CONFIG, not `--config` in the command, so that this check reads it too.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD ["node", "bin/agentdrift.js", "healthcheck", "--timeout", "4"]
# A small young generation: the daemon allocates little and briefly (see npm run bench metrics).
ENTRYPOINT ["node", "--max-semi-space-size=2", "bin/agentdrift.js"]
CMD ["daemon"]
