# syntax=docker/dockerfile:1
#
# One image for every process of the sample: the built-in broker and the three services. The
# command picks the process (docker-compose.yml sets it per service):
#   node dist/apps/broker/src/main.js                 (the default)
#   node dist/apps/order-service/src/main.js
#   node dist/apps/payment-service/src/main.js
#   node dist/apps/notification-service/src/main.js
#
#   docker build -t rocketnest .
#   docker run --rm -p 8081:8081 -e BROKER_HOST=0.0.0.0 rocketnest

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: every dependency (swc, TypeScript) and the compiled dist/ ---------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# ---- production dependencies only, installed from the same lockfile ----------------------------
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- runtime: node, the production node_modules and the compiled libs and apps ------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist/libs ./dist/libs
COPY --from=build /app/dist/apps ./dist/apps
COPY package.json ./
# The broker's store (BROKER_DATA_DIR) lives under /app/data: owned by the unprivileged user the
# processes run as, and the mount point of the broker's volume in docker-compose.yml.
RUN mkdir -p /app/data/broker && chown -R node:node /app/data
USER node
ENV BROKER_DATA_DIR=/app/data/broker
EXPOSE 8081
CMD ["node", "dist/apps/broker/src/main.js"]
