ARG NODE_VERSION=18.20.4
FROM node:${NODE_VERSION}-alpine AS base
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev

FROM base AS release
COPY --chown=node:node . .
USER node
EXPOSE 3000
CMD ["node", "server.js"]
