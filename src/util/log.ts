/**
 * Structured JSON logs on stderr: a constant message plus fields (`pod: "ns/name"`).
 * KEELSON_LOG=debug|info|warn|error|silent chooses the level (default info).
 */
type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };
let threshold = ORDER[(process.env.KEELSON_LOG as Level) ?? 'info'] ?? 20;

export function setLogLevel(level: Level | 'silent'): void { threshold = ORDER[level]; }

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function logger(component: string): Logger {
  const emit = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < threshold) return;
    const rec: Record<string, unknown> = { ts: new Date().toISOString(), level, component, msg, ...fields };
    for (const [k, v] of Object.entries(rec)) if (v instanceof Error) rec[k] = v.stack ?? v.message;
    process.stderr.write(JSON.stringify(rec) + '\n');
  };
  return {
    debug: (m, f) => emit('debug', m, f), info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f), error: (m, f) => emit('error', m, f),
  };
}
