/**
 * The HTTP floor: the smallest Fastify route and the smallest NestJS-on-Fastify route, touching no database, run
 * in their own process like the service. `node -r ts-node/register/transpile-only bench/floors/bare-server.ts fastify 3901`
 */
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import Fastify from 'fastify';

@Controller()
class PingController {
  @Get('ping')
  ping(): { status: string } {
    return { status: 'ok' };
  }
}

@Module({ controllers: [PingController] })
class PingModule {}

async function main(): Promise<void> {
  const [kind, portText] = process.argv.slice(2);
  const port = Number(portText);
  if (kind === 'fastify') {
    const app = Fastify({ logger: false });
    app.get('/ping', async () => ({ status: 'ok' }));
    await app.listen({ port, host: '127.0.0.1' });
  } else if (kind === 'nest') {
    const app = await NestFactory.create<NestFastifyApplication>(PingModule, new FastifyAdapter({ logger: false }), { logger: false });
    await app.listen(port, '127.0.0.1');
  } else {
    throw new Error(`unknown kind ${kind}`);
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
