# syntax=docker/dockerfile:1

# --- Embedded FerretDB (used only when MONGODB_URI is unset) ---
FROM golang:1.24-bookworm AS ferretdb
WORKDIR /src/scripts/ferretdb
COPY scripts/ferretdb/ ./
RUN CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -o /out/ferretdb .

# --- TypeScript build ---
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev

# --- Runtime ---
FROM node:20-bookworm-slim
ENV NODE_ENV=production PORT=3978 DATA_DIR=/app/data FERRETDB_BIN=/app/bin/ferretdb
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=ferretdb /out/ferretdb ./bin/ferretdb
COPY package.json ./
COPY dialogs ./dialogs
COPY locales ./locales
COPY src/console/public ./src/console/public
COPY src/admin/public ./src/admin/public
RUN mkdir -p /app/data && chown -R node:node /app/data
USER node
EXPOSE 3978
# Readiness, not liveness: unhealthy while the database (embedded engine) does not answer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3978)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/src/index.js"]
