FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build
# One malloc arena: Node runs JavaScript on one thread, and per-thread arenas cost ~75 MB of RSS.
ENV NODE_ENV=production PORT=3000 HOST=0.0.0.0 MALLOC_ARENA_MAX=1
EXPOSE 3000
CMD ["sh", "-c", "node scripts/migrate.mjs && node dist/main.js"]
