/**
 * What /readyz and /metrics say about what runs still lack (issue 10 item 9): agent credentials from the environment
 * (agentdrift_agent_credentials_present, `credentials` and `missing` in /readyz) and the Docker Engine as the real
 * scheduler last found it (a real engine, and a socket path nothing listens on). /readyz stays 200 while the process
 * serves; names of variables appear, never a value.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { DockerRuntime } from '../../src/executor/index.ts';
import { Scheduler } from '../../src/core/scheduler/scheduler.ts';
import { buildServer } from '../../src/adapters/http/server.ts';
import { makeContext, type TestContext } from '../helpers/context.ts';

const KEY = 'sk-ant-readiness-secret-0123456789';
// The schedule never fires during the test; no run starts.
const TRACKS = [
  { name: 'main', schedule: { cron: '0 3 1 1 *', catchUp: false } },
  { name: 'other', schedule: { cron: '0 3 1 1 *', catchUp: false } },
];

interface Ready {
  status: string;
  store: boolean;
  engine: string;
  credentials: boolean;
  missing: string[];
}

const open: { t: TestContext; app: FastifyInstance; scheduler?: Scheduler }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.scheduler?.stop(0);
    await o.app.close();
    o.t.cleanup();
  }
});

async function serve(env: NodeJS.ProcessEnv, socketPath?: string): Promise<{ t: TestContext; app: FastifyInstance }> {
  const t = makeContext({ tracks: TRACKS, ...(socketPath !== undefined ? { docker: { socketPath } } : {}) }, env);
  const app = await buildServer(t.ctx);
  const o: (typeof open)[number] = { t, app };
  open.push(o);
  if (socketPath !== undefined) {
    o.scheduler = new Scheduler({ deps: t.ctx, disk: t.ctx.exporter, runtime: new DockerRuntime({ socketPath: t.ctx.config.docker.socketPath }) });
    await o.scheduler.start();
  }
  return o;
}

const credentialLines = async (app: FastifyInstance) =>
  (await app.inject('/metrics')).body.split('\n').filter((l) => l.startsWith('agentdrift_agent_credentials_present'));

describe('/readyz and agentdrift_agent_credentials_present', () => {
  it('without credentials: 200, credentials false, missing names the variables to set; the gauge is 0 for every track', async () => {
    const { app } = await serve({});
    const r = await app.inject('/readyz');
    expect(r.statusCode).toBe(200);
    const body = r.json<Ready>();
    expect(body).toMatchObject({ status: 'ready', store: true, engine: 'unknown', credentials: false });
    expect(body.missing).toHaveLength(1);
    expect(body.missing[0]).toMatch(/^credentials: no credentials for the agent: set ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN/);
    expect(body.missing[0]).toContain('CLAUDE_CODE_USE_BEDROCK=1');
    expect(await credentialLines(app)).toEqual(['agentdrift_agent_credentials_present{track="main"} 0', 'agentdrift_agent_credentials_present{track="other"} 0']);
    expect((await app.inject('/metrics')).body).toContain('# TYPE agentdrift_agent_credentials_present gauge');
  });

  it('with an API key: credentials true, nothing missing, the gauge is 1, and the key appears nowhere', async () => {
    const { app, t } = await serve({ ANTHROPIC_API_KEY: KEY });
    const r = await app.inject('/readyz');
    expect(r.json<Ready>()).toMatchObject({ credentials: true, missing: [] });
    const metrics = (await app.inject('/metrics')).body;
    expect(await credentialLines(app)).toEqual(['agentdrift_agent_credentials_present{track="main"} 1', 'agentdrift_agent_credentials_present{track="other"} 1']);
    expect(r.body + metrics + t.logs.join('')).not.toContain(KEY);
    expect(t.ctx.agentCredentials).toEqual({ present: true, source: 'ANTHROPIC_API_KEY' });
  });

  it('Bedrock and Vertex count, by the names of their variables; an empty key does not', async () => {
    const bedrock = makeContext({}, { CLAUDE_CODE_USE_BEDROCK: '1', AWS_REGION: 'eu-west-1', AWS_PROFILE: 'agents' });
    const vertex = makeContext({}, { CLAUDE_CODE_USE_VERTEX: '1', ANTHROPIC_VERTEX_PROJECT_ID: 'p', CLOUD_ML_REGION: 'us-east5' });
    const empty = makeContext({}, { ANTHROPIC_API_KEY: '', CLAUDE_CODE_OAUTH_TOKEN: '' });
    try {
      expect(bedrock.ctx.agentCredentials).toEqual({ present: true, source: 'CLAUDE_CODE_USE_BEDROCK=1 (AWS_REGION, AWS_PROFILE)' });
      expect(vertex.ctx.agentCredentials).toEqual({ present: true, source: 'CLAUDE_CODE_USE_VERTEX=1 (ANTHROPIC_VERTEX_PROJECT_ID, CLOUD_ML_REGION)' });
      expect(empty.ctx.agentCredentials).toEqual({ present: false, source: null });
    } finally {
      bedrock.cleanup();
      vertex.cleanup();
      empty.cleanup();
    }
  });

  it('an engine that does not answer (as the scheduler found it) is named in missing, still 200', async () => {
    const socket = '/nonexistent/agentdrift-readiness.sock';
    const { app } = await serve({ ANTHROPIC_API_KEY: KEY }, socket);
    const r = await app.inject('/readyz');
    expect(r.statusCode).toBe(200);
    const body = r.json<Ready>();
    expect(body).toMatchObject({ status: 'ready', engine: 'down', credentials: true });
    expect(body.missing).toEqual([`engine: the Docker Engine at ${socket} does not answer; runs cannot start their containers`]);
  });

  it('the real engine answering: engine up, and with no credentials only those are missing', async () => {
    const { app } = await serve({}, '/var/run/docker.sock');
    const body = (await app.inject('/readyz')).json<Ready>();
    expect(body).toMatchObject({ engine: 'up', credentials: false });
    expect(body.missing.map((m) => m.split(':')[0])).toEqual(['credentials']);
  });
});
