# Build: bundle the emulator's package (npm start's emulator, which the generator runs where no identity provider is
# configured), then compile the generator and bundle its command line, with the development dependencies. The image
# checks the types itself once the emulator's declarations are built (`npm run build` does not): a pipeline may build
# it from a commit that `npm test` never saw.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/entra-emulator/package.json ./packages/entra-emulator/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY packages/entra-emulator ./packages/entra-emulator
RUN npm run build && npx tsc -p tsconfig.build.json --noEmit

# Production dependencies only: no tsx, esbuild, TypeScript or test tools.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/entra-emulator/package.json ./packages/entra-emulator/
RUN npm ci --omit=dev --no-audit --no-fund

# Run: compiled JavaScript, production dependencies, a non-root user. Nothing is written at run time
# (a read-only root file system works): no emulator state, and the session key comes from the secret.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
# On NAIS, SIGTERM comes after the platform's pre-stop pause, while the ingress may still route here for a
# few seconds: answer normally for five more with readiness false, then drain (within the 30 s grace period).
ENV SHUTDOWN_DELAY_SECONDS=5
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The emulator's package as its build left it; node_modules/entra-emulator links to it, as npm's workspaces do.
COPY --from=build /app/packages/entra-emulator/package.json ./packages/entra-emulator/
COPY --from=build /app/packages/entra-emulator/dist ./packages/entra-emulator/dist
COPY package.json ./
USER node
# On NAIS (its pod variables set) the generator listens on every address; anywhere else on 127.0.0.1 only,
# which a container's published port cannot reach. To run the image elsewhere, set HOST=0.0.0.0 and publish
# the port to this machine only (`-e HOST=0.0.0.0 -p 127.0.0.1:8080:8080`): whoever reaches the port gets
# app tokens without logging in (and, with the emulator, tokens for any test employee).
EXPOSE 8080
CMD ["node", "dist/main.js"]
