# One image for the API and both workers; docker-compose.yml picks the command.
FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY . .
USER node
CMD ["node", "--import", "tsx", "api/server.ts"]
