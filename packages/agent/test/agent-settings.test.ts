import { describe, expect, it } from 'vitest';
import { agentLogger } from '../src/agent-logger.js';
import { agentSettings } from '../src/agent-settings.js';

describe('agent settings', () => {
  it('defaults: autostart on, 60 s, info', () => {
    expect(agentSettings({}, {})).toEqual({ autostart: true, timeoutMs: 60_000, logLevel: 'info' });
  });

  it('the config sets them and the environment wins', () => {
    const config = { agent: { autostart: false, timeout: '5s', logLevel: 'warn' as const } };
    expect(agentSettings({}, config)).toEqual({ autostart: false, timeoutMs: 5000, logLevel: 'warn' });
    expect(
      agentSettings(
        { COSIGNKIT_AGENT_AUTOSTART: '1', COSIGNKIT_AGENT_TIMEOUT: '250ms', COSIGNKIT_AGENT_LOG_LEVEL: 'debug' },
        config,
      ),
    ).toEqual({ autostart: true, timeoutMs: 250, logLevel: 'debug' });
    expect(agentSettings({ COSIGNKIT_AGENT_AUTOSTART: '0' }, {}).autostart).toBe(false);
    expect(agentSettings({ COSIGNKIT_DEBUG: '1' }, config).logLevel).toBe('debug');
  });

  it('refuses a bad timeout or level with USAGE, in one line', () => {
    for (const env of [
      { COSIGNKIT_AGENT_TIMEOUT: 'soon' },
      { COSIGNKIT_AGENT_TIMEOUT: '0' },
      { COSIGNKIT_AGENT_LOG_LEVEL: 'loud' },
    ]) {
      expect(() => agentSettings(env, {})).toThrow(
        expect.objectContaining({ code: 'USAGE', message: expect.not.stringContaining('\n') }),
      );
    }
  });

  it('the log writes from its level up', () => {
    const lines: string[] = [];
    const log = agentLogger((line) => lines.push(line), 'warn');
    log.debug('d');
    log.info('i');
    log.warn('w', { code: 'TIMEOUT' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ warn w \{"code":"TIMEOUT"\}\n$/);
    const all: string[] = [];
    const debug = agentLogger((line) => all.push(line), 'debug');
    debug.debug('d');
    debug.info('i');
    expect(all).toHaveLength(2);
  });
});
