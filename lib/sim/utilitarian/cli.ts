/** The ems-sim entry of the Utilitarian API simulator. */
import { int, str, UsageError, type SimulatorEntry } from '../registry';
import { DEFAULT_TOKEN, UtilitarianSimulator, type UtilitarianSimOptions } from './server';

export interface UtilitarianCliOptions { host: string; port: number; sim: UtilitarianSimOptions }

export const utilitarianCli: SimulatorEntry<UtilitarianCliOptions> = {
  name: 'utilitarian',
  description: 'Utilitarian AMR API v1.3.0 (REST, Token and JWT auth, limit/offset pagination), in memory.',
  options: [
    { name: 'port', type: 'string', arg: 'PORT', description: 'HTTP port (0 = any free port)', default: '8000' },
    { name: 'host', type: 'string', arg: 'HOST', description: 'address to listen on', default: '127.0.0.1' },
    { name: 'token', type: 'string', arg: 'KEY', description: 'API key of the staff user (Token auth)', default: DEFAULT_TOKEN },
    { name: 'user', type: 'string', arg: 'NAME:PASSWORD', description: 'non-staff user for JWT auth', default: 'reader:reader-pass' },
    { name: 'prefix', type: 'string', arg: 'PATH', description: 'path prefix served besides the bare paths', default: '/v1' },
    { name: 'jwt-lifetime', type: 'string', arg: 'SECONDS', description: 'JWT_EXPIRATION_TIME_SECONDS', default: '1200' },
  ],
  help: [
    'Examples:',
    '  ems-sim utilitarian --port 8000',
    '  curl -H "Authorization: Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b" http://127.0.0.1:8000/v1/metering/meter-devices',
    '  curl -X POST -H "content-type: application/json" -d \'{"username":"reader","password":"reader-pass"}\' http://127.0.0.1:8000/v1/auth/jwt/token/',
  ].join('\n'),
  parse(values) {
    const host = str(values, 'host') ?? '127.0.0.1';
    const port = int('port', str(values, 'port') ?? '8000', 0, 65535, 'a port number');
    const token = str(values, 'token') ?? DEFAULT_TOKEN;
    if (!/^\S+$/.test(token)) throw new UsageError(`--token: ${JSON.stringify(token)} must be one word`);
    const userText = str(values, 'user') ?? 'reader:reader-pass';
    const m = /^([^:]+):(.+)$/.exec(userText);
    if (!m) throw new UsageError(`--user: ${JSON.stringify(userText)} is not NAME:PASSWORD`);
    const prefix = str(values, 'prefix') ?? '/v1';
    if (prefix && !/^\/[^\s]*[^/]$/.test(prefix)) throw new UsageError(`--prefix: ${JSON.stringify(prefix)} must start with / and not end with /`);
    const jwtLifetimeS = int('jwt-lifetime', str(values, 'jwt-lifetime') ?? '1200', 1, 31_536_000, 'a number of seconds');
    return { host, port, sim: { token, user: { username: m[1], password: m[2] }, prefix, jwtLifetimeS, scheduler: true } };
  },
  async start(o) {
    const sim = new UtilitarianSimulator(o.sim);
    const port = await sim.listen(o.port, o.host);
    return {
      close: () => sim.close(),
      describe: () => `utilitarian API on http://${o.host}:${port}${o.sim.prefix} (Token ${o.sim.token}; JWT user ${o.sim.user!.username})`,
    };
  },
};
