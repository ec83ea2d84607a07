# Build: compile TypeScript with the dev dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Production dependencies only.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# Run: compiled JavaScript, production dependencies, a non-root user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
# On NAIS, SIGTERM comes after the platform's pre-stop pause, while the ingress may still route here for a
# few seconds: answer normally for five more with readiness false, then drain (within the 30 s grace period).
ENV SHUTDOWN_DELAY_SECONDS=5
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER node
EXPOSE 8080
CMD ["node", "dist/main.js"]
